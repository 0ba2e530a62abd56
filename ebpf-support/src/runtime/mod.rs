mod cli;
mod hooks;
mod kernel;
mod libbpf_log;
mod privileges;
mod run;
mod trace_pipe;

pub use cli::{ExecTrigger, interface_index, main, program_name, require_needs};
pub use hooks::{attach_to, choose_hook};
pub use kernel::{Check, check, errno_name, explain_refusal, has, missing};
pub use libbpf_log::LoadError;
pub use privileges::{Privilege, require};
pub use run::{Run, RunArgs};
pub use trace_pipe::{TraceLine, TracePipe, tracefs};

/// A C string from an eBPF event (`char command[16]`: eBPF's `char` is signed), up to its NUL.
pub fn c_string(chars: &[i8]) -> String {
    let bytes: Vec<u8> = chars
        .iter()
        .map(|&c| c as u8)
        .take_while(|&b| b != 0)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}
