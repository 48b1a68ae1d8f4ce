// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Spanwire's kernel programs. The syscall capture source: connections from connect/accept (or
 * found lazily when their first bytes look like HTTP), payload from the read and write families
 * through the shared data path (data_path.h), close; process exit and exec. */
#include "kernel_types.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "spanwire.h"
#include "maps.h"
#include "sock.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Set by user space before load (dev.spanwire.bpf.CaptureConfig). */
const volatile struct capture_config config = {
	.capture_bytes = 4096,
	.wakeup_bytes = 256 * 1024,
};

/* The record types reach the ring buffer through void pointers; these keep them in the object's
 * BTF, where EventLayoutsTest checks the Java layouts against them. */
const struct conn_open_event *unused_conn_open_event __attribute__((unused));
const struct conn_close_event *unused_conn_close_event __attribute__((unused));
const struct proc_event *unused_proc_event __attribute__((unused));

/* Source of connection ids, unique for the life of the loaded object. */
__u64 next_conn_id = 0;

#include "data_path.h"

static __always_inline void stash_data_args(void *map, __s32 fd, __u64 buf, __u32 iovcnt,
					    __u8 source, __u8 vectored)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	if (!traced_process(pid_tgid >> 32))
		return;
	/* rewrite this thread's entry in place when it has one */
	struct data_args *args = bpf_map_lookup_elem(map, &pid_tgid);
	if (args) {
		args->buf = buf;
		args->start_ns = bpf_ktime_get_ns();
		args->iovcnt = iovcnt;
		args->source = source;
		args->vectored = vectored;
		args->fd = fd;
		return;
	}
	struct data_args fresh = {
		.buf = buf,
		.start_ns = bpf_ktime_get_ns(),
		.fd = fd,
		.iovcnt = iovcnt,
		.source = source,
		.vectored = vectored,
	};
	if (!bpf_map_update_elem(map, &pid_tgid, &fresh, BPF_ANY))
		return;
	/* no room: this syscall's bytes go unseen, so its connection's next event says so */
	struct capture_stats *st = stats();
	if (st)
		st->stash_full++;
	__u64 key = (pid_tgid & 0xffffffff00000000ULL) | (__u32)fd;
	struct conn_info *ci = bpf_map_lookup_elem(&conn_info, &key);
	if (ci && ci->state == CONN_TRACED)
		ci->flags |= CONN_FLAG_LOSS_PENDING;
}

static __always_inline void stash_msg_args(void *map, __s32 fd, __u64 msg, __u8 source)
{
	struct user_msghdr hdr = {};
	if (bpf_probe_read_user(&hdr, sizeof(hdr), (const void *)msg))
		return;
	stash_data_args(map, fd, (__u64)hdr.msg_iov, hdr.msg_iovlen, source, 1);
}

static __always_inline int handle_data_exit(struct syscall_exit_ctx *ctx, void *map,
					    enum direction dir)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct data_args *stashed = bpf_map_lookup_elem(map, &pid_tgid);
	if (!stashed || stashed->fd < 0)
		return 0;
	struct data_args args = *stashed;
	stashed->fd = -1;

	long len = ctx->ret;
	if (len <= 0)
		return 0;
	/* writes are stamped when they start, reads when they complete */
	__u64 timestamp_ns = dir == DIRECTION_EGRESS ? args.start_ns : bpf_ktime_get_ns();
	struct data_source src = {
		.buf = args.buf,
		.iovcnt = args.iovcnt,
		.vectored = args.vectored,
		.source = args.source,
		.layer = LAYER_SOCKET,
	};
	capture_data(pid_tgid, args.fd, dir, &src, len, timestamp_ns);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_read")
int handle_sys_enter_read(struct syscall_enter_ctx *ctx)
{
	stash_data_args(&active_reads, ctx->args[0], ctx->args[1], 0, SOURCE_READ, 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_read")
int handle_sys_exit_read(struct syscall_exit_ctx *ctx)
{
	return handle_data_exit(ctx, &active_reads, DIRECTION_INGRESS);
}

SEC("tracepoint/syscalls/sys_enter_readv")
int handle_sys_enter_readv(struct syscall_enter_ctx *ctx)
{
	stash_data_args(&active_reads, ctx->args[0], ctx->args[1], ctx->args[2], SOURCE_READV, 1);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_readv")
int handle_sys_exit_readv(struct syscall_exit_ctx *ctx)
{
	return handle_data_exit(ctx, &active_reads, DIRECTION_INGRESS);
}

SEC("tracepoint/syscalls/sys_enter_recvfrom")
int handle_sys_enter_recvfrom(struct syscall_enter_ctx *ctx)
{
	/* a peek leaves the bytes for the next read, which is captured instead */
	if (ctx->args[3] & MSG_PEEK)
		return 0;
	stash_data_args(&active_reads, ctx->args[0], ctx->args[1], 0, SOURCE_RECVFROM, 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_recvfrom")
int handle_sys_exit_recvfrom(struct syscall_exit_ctx *ctx)
{
	return handle_data_exit(ctx, &active_reads, DIRECTION_INGRESS);
}

SEC("tracepoint/syscalls/sys_enter_recvmsg")
int handle_sys_enter_recvmsg(struct syscall_enter_ctx *ctx)
{
	if (ctx->args[2] & MSG_PEEK)
		return 0;
	stash_msg_args(&active_reads, ctx->args[0], ctx->args[1], SOURCE_RECVMSG);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_recvmsg")
int handle_sys_exit_recvmsg(struct syscall_exit_ctx *ctx)
{
	return handle_data_exit(ctx, &active_reads, DIRECTION_INGRESS);
}

SEC("tracepoint/syscalls/sys_enter_write")
int handle_sys_enter_write(struct syscall_enter_ctx *ctx)
{
	stash_data_args(&active_writes, ctx->args[0], ctx->args[1], 0, SOURCE_WRITE, 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_write")
int handle_sys_exit_write(struct syscall_exit_ctx *ctx)
{
	return handle_data_exit(ctx, &active_writes, DIRECTION_EGRESS);
}

SEC("tracepoint/syscalls/sys_enter_writev")
int handle_sys_enter_writev(struct syscall_enter_ctx *ctx)
{
	stash_data_args(&active_writes, ctx->args[0], ctx->args[1], ctx->args[2], SOURCE_WRITEV, 1);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_writev")
int handle_sys_exit_writev(struct syscall_exit_ctx *ctx)
{
	return handle_data_exit(ctx, &active_writes, DIRECTION_EGRESS);
}

SEC("tracepoint/syscalls/sys_enter_sendto")
int handle_sys_enter_sendto(struct syscall_enter_ctx *ctx)
{
	stash_data_args(&active_writes, ctx->args[0], ctx->args[1], 0, SOURCE_SENDTO, 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_sendto")
int handle_sys_exit_sendto(struct syscall_exit_ctx *ctx)
{
	return handle_data_exit(ctx, &active_writes, DIRECTION_EGRESS);
}

SEC("tracepoint/syscalls/sys_enter_sendmsg")
int handle_sys_enter_sendmsg(struct syscall_enter_ctx *ctx)
{
	stash_msg_args(&active_writes, ctx->args[0], ctx->args[1], SOURCE_SENDMSG);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_sendmsg")
int handle_sys_exit_sendmsg(struct syscall_exit_ctx *ctx)
{
	return handle_data_exit(ctx, &active_writes, DIRECTION_EGRESS);
}

SEC("tracepoint/syscalls/sys_enter_sendfile64")
int handle_sys_enter_sendfile64(struct syscall_enter_ctx *ctx)
{
	stash_data_args(&active_writes, ctx->args[0], 0, 0, SOURCE_SENDFILE, 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_sendfile64")
int handle_sys_exit_sendfile64(struct syscall_exit_ctx *ctx)
{
	return handle_data_exit(ctx, &active_writes, DIRECTION_EGRESS);
}

SEC("tracepoint/syscalls/sys_enter_connect")
int handle_sys_enter_connect(struct syscall_enter_ctx *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	if (!traced_process(pid_tgid >> 32))
		return 0;
	__s32 fd = ctx->args[0];
	bpf_map_update_elem(&active_connects, &pid_tgid, &fd, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_connect")
int handle_sys_exit_connect(struct syscall_exit_ctx *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__s32 *stashed = bpf_map_lookup_elem(&active_connects, &pid_tgid);
	if (!stashed)
		return 0;
	__s32 fd = *stashed;
	bpf_map_delete_elem(&active_connects, &pid_tgid);

	/* a non-blocking connect is under way with its local port bound */
	if (ctx->ret != 0 && ctx->ret != -EINPROGRESS)
		return 0;
	__u64 ino = 0;
	struct sock *sk = inet_stream_sock(fd, &ino);
	if (sk)
		track_socket(pid_tgid, fd, sk, ino, ROLE_CLIENT, 0, BPF_ANY);
	return 0;
}

static __always_inline int handle_accept_exit(struct syscall_exit_ctx *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	if (ctx->ret < 0 || !traced_process(pid_tgid >> 32))
		return 0;
	__s32 fd = ctx->ret;
	__u64 ino = 0;
	struct sock *sk = inet_stream_sock(fd, &ino);
	if (sk)
		track_socket(pid_tgid, fd, sk, ino, ROLE_SERVER, 0, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept")
int handle_sys_exit_accept(struct syscall_exit_ctx *ctx)
{
	return handle_accept_exit(ctx);
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int handle_sys_exit_accept4(struct syscall_exit_ctx *ctx)
{
	return handle_accept_exit(ctx);
}

SEC("tracepoint/syscalls/sys_enter_close")
int handle_sys_enter_close(struct syscall_enter_ctx *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__s32 fd = ctx->args[0];
	__u64 key = (pid_tgid & 0xffffffff00000000ULL) | (__u32)fd;
	struct conn_info *ci = bpf_map_lookup_elem(&conn_info, &key);
	if (!ci)
		return 0;
	if (ci->state == CONN_TRACED)
		emit_close(pid_tgid, fd, ci);
	bpf_map_delete_elem(&conn_info, &key);
	return 0;
}

SEC("tracepoint/sched/sched_process_exit")
int handle_sched_process_exit(void *ctx)
{
	/* a thread ends: its stashed syscall arguments go with it */
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	bpf_map_delete_elem(&active_reads, &pid_tgid);
	bpf_map_delete_elem(&active_writes, &pid_tgid);
	bpf_map_delete_elem(&active_connects, &pid_tgid);

	/* the process ends with its last thread (signal->live already counts this one out) */
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	if (BPF_CORE_READ(task, signal, live.counter) != 0)
		return 0;
	__u32 tgid = pid_tgid >> 32;
	if (!bpf_map_lookup_elem(&traced_tgids, &tgid))
		return 0;
	bpf_map_delete_elem(&traced_tgids, &tgid);
	emit_proc(EVENT_PROC_EXIT, pid_tgid);
	return 0;
}

SEC("tracepoint/sched/sched_process_exec")
int handle_sched_process_exec(void *ctx)
{
	/* a traced process runs another program: its name and close-on-exec sockets changed */
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tgid = pid_tgid >> 32;
	if (bpf_map_lookup_elem(&traced_tgids, &tgid))
		emit_proc(EVENT_PROC_EXEC, pid_tgid);
	return 0;
}
