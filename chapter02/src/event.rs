//! The event of hello-buffer and hello-ring-buffer, mirroring `struct data_t` in
//! `src/bpf/hello-buffer.h`.

/// `struct data_t` as the kernel wrote it.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Data {
    pub pid: i32,
    pub uid: i32,
    pub command: [u8; 16],
    pub message: [u8; 12],
}

// SAFETY: a C struct of integers and byte arrays, valid for any bit pattern.
unsafe impl plain::Plain for Data {}

impl Data {
    /// Reads an event from the raw bytes of a perf or ring buffer sample.
    pub fn from_bytes(bytes: &[u8]) -> Option<Data> {
        let mut data = Data::default();
        plain::copy_from_bytes(&mut data, bytes).ok()?;
        Some(data)
    }

    pub fn command(&self) -> String {
        c_string(&self.command)
    }

    pub fn message(&self) -> String {
        c_string(&self.message)
    }
}

/// `11654 0 node Hello World`: the book's sample line, with the UID its code also prints.
impl std::fmt::Display for Data {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} {} {}",
            self.pid,
            self.uid,
            self.command(),
            self.message()
        )
    }
}

fn c_string(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}
