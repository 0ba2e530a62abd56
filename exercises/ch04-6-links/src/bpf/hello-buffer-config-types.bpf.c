// SPDX-License-Identifier: GPL-2.0
// Types only, never loaded: this object's skeleton gives Rust `types::data_t` and
// `types::user_msg_t` for hello-buffer-config and hello-ring-buffer-config.
//
// Those two objects cannot carry the usual never-written global (chapter02/src/bpf/hello-buffer.h):
// a global lives in a .rodata map, and libbpf-cargo 0.27's skeleton code for such a map uses a
// local variable called `config`, which a map called `config` shadows. Having no globals also
// keeps their bpf() calls to the book's: no extra MAP_CREATE for .rodata.
#include "vmlinux.h"
#include "hello-buffer-config.h"

const volatile struct user_msg_t user_msg_t_for_user_space = {};
const volatile struct data_t data_t_for_user_space = {};
