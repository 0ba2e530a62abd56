// SPDX-License-Identifier: GPL-2.0
// Types only, never loaded: this object's skeleton gives Rust `types::data_t` (which
// hello-verifier.bpf.c keeps on the stack, so its own skeleton lacks it) and `types::msg_t`.
#include "vmlinux.h"
#include "hello-verifier.h"

const volatile struct data_t data_t_for_user_space = {};
const volatile struct msg_t msg_t_for_user_space = {};
