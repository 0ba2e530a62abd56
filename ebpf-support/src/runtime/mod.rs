mod attach;
mod cli;
mod events;
mod features;
mod libbpf_log;
mod privileges;
mod run;
mod trace_pipe;

pub use attach::{AttachMode, ExecveArgs, ExecveAttach, attach_execve, choose_execve_program};
pub use cli::{ExecTrigger, RunArgs, main, program_name};
pub use events::{read_perf_buffer, read_ring_buffer};
pub use features::{Feature, has};
pub use libbpf_log::{LoadError, load, load_and_attach};
pub use privileges::{Privilege, require};
pub use run::Run;
pub use trace_pipe::{TraceLine, TracePipe, tracefs};
