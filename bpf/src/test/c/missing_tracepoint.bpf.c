// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* A valid program for a tracepoint no kernel has: it loads, and attaching must fail by name. */
#include "kernel_types.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("tracepoint/syscalls/sys_enter_no_such_call")
int handle_no_such_call(void *ctx)
{
	return 0;
}
