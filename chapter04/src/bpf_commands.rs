//! The bpf() commands by name, with what each step does (Learning eBPF, chapter 4, “The bpf()
//! System Call”). The numbers come from libbpf's copy of the kernel's `enum bpf_cmd`.

use libbpf_rs::libbpf_sys as sys;

/// `BPF_MAP_CREATE`, or `BPF_CMD_N` for a number this table does not know.
pub fn name(cmd: u32) -> String {
    explain(cmd)
        .map(|(name, _)| name.to_string())
        .unwrap_or_else(|| format!("BPF_CMD_{cmd}"))
}

/// The command's name and a short phrase for what it does.
pub fn explain(cmd: u32) -> Option<(&'static str, &'static str)> {
    Some(match cmd {
        sys::BPF_MAP_CREATE => ("BPF_MAP_CREATE", "create a map; the result is its fd"),
        sys::BPF_MAP_LOOKUP_ELEM => ("BPF_MAP_LOOKUP_ELEM", "read one entry of a map"),
        sys::BPF_MAP_UPDATE_ELEM => ("BPF_MAP_UPDATE_ELEM", "write one entry of a map"),
        sys::BPF_MAP_DELETE_ELEM => ("BPF_MAP_DELETE_ELEM", "delete one entry of a map"),
        sys::BPF_MAP_GET_NEXT_KEY => ("BPF_MAP_GET_NEXT_KEY", "walk a map's keys"),
        sys::BPF_PROG_LOAD => (
            "BPF_PROG_LOAD",
            "load a program: the verifier checks it; the result is its fd",
        ),
        sys::BPF_OBJ_PIN => ("BPF_OBJ_PIN", "pin an object in bpffs"),
        sys::BPF_OBJ_GET => ("BPF_OBJ_GET", "open a pinned object"),
        sys::BPF_PROG_ATTACH => ("BPF_PROG_ATTACH", "attach a program (cgroups, sockets)"),
        sys::BPF_PROG_DETACH => ("BPF_PROG_DETACH", "detach a program"),
        sys::BPF_PROG_TEST_RUN => ("BPF_PROG_TEST_RUN", "run a program on test input"),
        sys::BPF_PROG_GET_NEXT_ID => ("BPF_PROG_GET_NEXT_ID", "find the next program id"),
        sys::BPF_MAP_GET_NEXT_ID => ("BPF_MAP_GET_NEXT_ID", "find the next map id"),
        sys::BPF_PROG_GET_FD_BY_ID => ("BPF_PROG_GET_FD_BY_ID", "open a program by id"),
        sys::BPF_MAP_GET_FD_BY_ID => ("BPF_MAP_GET_FD_BY_ID", "open a map by id"),
        sys::BPF_OBJ_GET_INFO_BY_FD => ("BPF_OBJ_GET_INFO_BY_FD", "ask about an object"),
        sys::BPF_PROG_QUERY => ("BPF_PROG_QUERY", "list the programs attached somewhere"),
        sys::BPF_RAW_TRACEPOINT_OPEN => (
            "BPF_RAW_TRACEPOINT_OPEN",
            "attach to a raw tracepoint; the result is a link fd",
        ),
        sys::BPF_BTF_LOAD => (
            "BPF_BTF_LOAD",
            "load type information (BTF); the result is its fd",
        ),
        sys::BPF_BTF_GET_FD_BY_ID => ("BPF_BTF_GET_FD_BY_ID", "open BTF by id"),
        sys::BPF_TASK_FD_QUERY => ("BPF_TASK_FD_QUERY", "ask what a process's fd attaches"),
        sys::BPF_MAP_FREEZE => ("BPF_MAP_FREEZE", "make a map read-only for user space"),
        sys::BPF_LINK_CREATE => (
            "BPF_LINK_CREATE",
            "attach a program through a link; the result is the link's fd",
        ),
        sys::BPF_LINK_GET_FD_BY_ID => ("BPF_LINK_GET_FD_BY_ID", "open a link by id"),
        sys::BPF_LINK_GET_NEXT_ID => ("BPF_LINK_GET_NEXT_ID", "find the next link id"),
        sys::BPF_LINK_DETACH => ("BPF_LINK_DETACH", "detach a link"),
        sys::BPF_PROG_BIND_MAP => ("BPF_PROG_BIND_MAP", "tie a map to a program"),
        sys::BPF_TOKEN_CREATE => (
            "BPF_TOKEN_CREATE",
            "ask for a delegation token (libbpf probes for one first)",
        ),
        _ => return None,
    })
}
