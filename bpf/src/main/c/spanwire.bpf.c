// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Socket capture on syscall tracepoints: connections from connect/accept (or found lazily when
 * their first bytes look like HTTP), payload from the read and write families, close. */
#include "kernel_types.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "spanwire.h"
#include "maps.h"
#include "sock.h"
#include "protocol_http.h"

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

static __always_inline bool traced_process(__u32 tgid)
{
	if (tgid == config.agent_tgid)
		return false;
	return config.target_tgid == 0 || tgid == config.target_tgid;
}

static __always_inline struct capture_stats *stats(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&capture_stats, &zero);
}

/* Wake the reader only when enough is waiting; it polls on a short timer otherwise, which
 * saves a wakeup per event under load. */
static __always_inline __u64 wakeup_flags(void)
{
	if (config.wakeup_bytes == 0)
		return 0;
	return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= config.wakeup_bytes ?
		       BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

static __always_inline void fill_header(struct event_header *hdr, __u32 type, __u64 pid_tgid,
					__s32 fd, __u64 conn_id, __u64 timestamp_ns)
{
	hdr->type = type;
	hdr->tgid = pid_tgid >> 32;
	hdr->tid = (__u32)pid_tgid;
	hdr->fd = fd;
	hdr->conn_id = conn_id;
	hdr->timestamp_ns = timestamp_ns;
}

static __always_inline void count_lost(__u64 bytes)
{
	struct capture_stats *s = stats();
	if (s) {
		s->events_lost++;
		s->bytes_lost += bytes;
	}
}

/* Copy the start of the current process's argument area; returns the bytes copied. */
static __always_inline __u32 read_cmdline(char *dst)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	unsigned long start = BPF_CORE_READ(task, mm, arg_start);
	unsigned long end = BPF_CORE_READ(task, mm, arg_end);
	if (!start || end <= start)
		return 0;
	unsigned long len = end - start;
	if (len > CMDLINE_BYTES)
		len = CMDLINE_BYTES;
	__u32 n = ((len - 1) & (CMDLINE_BYTES - 1)) + 1;
	return bpf_probe_read_user(dst, n, (const void *)start) ? 0 : n;
}

static __always_inline void emit_open(__u64 pid_tgid, __s32 fd, const struct conn_info *ci)
{
	/* reserve sample from ring buffer */
	struct conn_open_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_lost(0);
		return;
	}
	fill_header(&e->hdr, EVENT_CONN_OPEN, pid_tgid, fd, ci->id, bpf_ktime_get_ns());
	__u64 uid_gid = bpf_get_current_uid_gid();
	e->uid = (__u32)uid_gid;
	e->gid = uid_gid >> 32;
	e->family = ci->family;
	e->local_port = ci->local_port;
	e->remote_port = ci->remote_port;
	e->role = ci->role;
	e->flags = ci->flags & CONN_FLAG_JOINED ? OPEN_FLAG_JOINED : 0;
	__builtin_memcpy(e->local_addr, ci->local_addr, sizeof(e->local_addr));
	__builtin_memcpy(e->remote_addr, ci->remote_addr, sizeof(e->remote_addr));
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->cmdline_len = read_cmdline(e->cmdline);
	e->pad2 = 0;
	e->ino = ci->ino;
	/* wake the reader now: it reads /proc for the process, which may not live long */
	bpf_ringbuf_submit(e, BPF_RB_FORCE_WAKEUP);

	/* its exit and exec concern user space from now on */
	__u32 tgid = pid_tgid >> 32;
	__u8 one = 1;
	bpf_map_update_elem(&traced_tgids, &tgid, &one, BPF_ANY);
}

/* A process event (exit, exec) for the current task. */
static __always_inline void emit_proc(__u32 type, __u64 pid_tgid)
{
	struct proc_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_lost(0);
		return;
	}
	fill_header(&e->hdr, type, pid_tgid, -1, 0, bpf_ktime_get_ns());
	bpf_ringbuf_submit(e, BPF_RB_FORCE_WAKEUP);
}

static __always_inline void emit_close(__u64 pid_tgid, __s32 fd, const struct conn_info *ci)
{
	struct conn_close_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_lost(0);
		return;
	}
	fill_header(&e->hdr, EVENT_CONN_CLOSE, pid_tgid, fd, ci->id, bpf_ktime_get_ns());
	e->bytes_egress = ci->position[DIRECTION_EGRESS];
	e->bytes_ingress = ci->position[DIRECTION_INGRESS];
	bpf_ringbuf_submit(e, wakeup_flags());
}

static __always_inline __u8 role_of(enum http_kind kind, enum direction dir)
{
	if (kind == HTTP_NONE)
		return ROLE_UNKNOWN;
	/* writing a request or reading a response is what a client does */
	return (kind == HTTP_REQUEST) == (dir == DIRECTION_EGRESS) ? ROLE_CLIENT : ROLE_SERVER;
}

static __always_inline bool on_capture_port(const struct conn_info *ci)
{
	if (config.all_ports)
		return true;
	for (int i = 0; i < MAX_CAPTURE_PORTS; i++) {
		__u16 port = config.capture_ports[i];
		if (port == 0)
			break;
		if (port == ci->local_port || port == ci->remote_port)
			return true;
	}
	return false;
}

/* Start a fresh entry for a socket at tgid<<32|fd, closing whatever the fd held before. */
static __always_inline struct conn_info *track_socket(__u64 pid_tgid, __s32 fd, struct sock *sk,
						      __u64 ino, __u8 role, __u8 conn_flags,
						      __u64 flags)
{
	__u64 key = (pid_tgid & 0xffffffff00000000ULL) | (__u32)fd;
	struct conn_info *old = bpf_map_lookup_elem(&conn_info, &key);
	if (old && old->state == CONN_TRACED)
		emit_close(pid_tgid, fd, old);

	struct conn_info ci = {};
	read_tuple(sk, &ci);
	ci.ino = ino;
	ci.role = role;
	ci.flags = conn_flags;
	ci.state = CONN_UNDECIDED;
	ci.id = __sync_fetch_and_add(&next_conn_id, 1) + 1;
	if (bpf_map_update_elem(&conn_info, &key, &ci, flags)) {
		struct capture_stats *s = stats();
		if (s)
			s->conns_untracked++;
		return NULL;
	}
	return bpf_map_lookup_elem(&conn_info, &key);
}

/* The first HTTP_PREFIX_BYTES of the transferred data (of the first iovec when vectored) into a
 * zeroed prefix: one read of what is there rather than a branch per byte past `len`, which kept
 * the verifier's explored states apart. */
static __always_inline void read_prefix(const struct data_args *args, long len,
					__u8 prefix[HTTP_PREFIX_BYTES])
{
	const void *src = (const void *)args->buf;
	__u64 avail = len;
	if (args->vectored) {
		struct iovec iov = {};
		bpf_probe_read_user(&iov, sizeof(iov), src);
		src = iov.iov_base;
		if (iov.iov_len < avail)
			avail = iov.iov_len;
	}
	__u32 n = avail < HTTP_PREFIX_BYTES ? avail : HTTP_PREFIX_BYTES;
	if (n == 0)
		return;
	/* a failed read leaves zeros */
	bpf_probe_read_user(prefix, n & (2 * HTTP_PREFIX_BYTES - 1), src);
}

/* Copy up to `want` bytes of the transferred data into dst; returns the count copied. */
static __always_inline __u32 copy_payload(__u8 *dst, const struct data_args *args, __u32 want)
{
	if (want == 0)
		return 0;
	if (!args->vectored) {
		__u32 n = ((want - 1) & (MAX_CAPTURE_BYTES - 1)) + 1;
		return bpf_probe_read_user(dst, n, (const void *)args->buf) ? 0 : n;
	}

	const struct iovec *iovs = (const struct iovec *)args->buf;
	__u32 copied = 0;
	for (int i = 0; i < MAX_IOVECS; i++) {
		if (i >= args->iovcnt || copied >= want)
			break;
		struct iovec iov;
		if (bpf_probe_read_user(&iov, sizeof(iov), &iovs[i]))
			break;
		__u32 left = want - copied;
		__u32 n = iov.iov_len < left ? iov.iov_len : left;
		if (n == 0)
			continue;
		/* both masks are no-ops at run time; they bound offset and size for the verifier */
		__u32 offset = copied & (MAX_CAPTURE_BYTES - 1);
		n = ((n - 1) & (MAX_CAPTURE_BYTES - 1)) + 1;
		if (bpf_probe_read_user(dst + offset, n, iov.iov_base))
			break;
		copied += n;
	}
	return copied;
}

static __always_inline void emit_data(__u64 pid_tgid, const struct data_args *args,
				      struct conn_info *ci, enum direction dir,
				      __u64 position, long len, __u64 timestamp_ns)
{
	__u32 cpu = bpf_get_smp_processor_id();
	struct data_buffer *buf = bpf_map_lookup_elem(&data_buffers, &cpu);
	if (!buf) {
		count_lost(len);
		return;
	}
	struct data_event *e = &buf->event;
	fill_header(&e->hdr, EVENT_DATA, pid_tgid, args->fd, ci->id, timestamp_ns);
	e->position = position;
	e->length = len;
	e->direction = dir;
	e->source = args->source;
	e->flags = 0;
	if (ci->flags & CONN_FLAG_LOSS_PENDING) {
		/* a syscall before this one moved bytes unseen, without moving the position */
		e->flags = DATA_FLAG_LOSS_BEFORE;
		ci->flags &= ~CONN_FLAG_LOSS_PENDING;
	}

	/* copy the payload prefix; sendfile moves file pages, not user bytes */
	__u32 want = 0;
	if (args->source != SOURCE_SENDFILE)
		want = len < config.capture_bytes ? len : config.capture_bytes;
	__u32 captured = copy_payload(e->data, args, want);
	if (captured > MAX_CAPTURE_BYTES)
		captured = MAX_CAPTURE_BYTES;
	e->captured = captured;

	/* send header and captured bytes only */
	__u64 size = __builtin_offsetof(struct data_event, data) + captured;
	if (bpf_ringbuf_output(&events, e, size, wakeup_flags()))
		count_lost(len);
}

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

	__u64 key = (pid_tgid & 0xffffffff00000000ULL) | (__u32)args.fd;
	struct conn_info *ci = bpf_map_lookup_elem(&conn_info, &key);
	if (ci && fd_ino(args.fd) != ci->ino) {
		/* the fd names another file now: its socket went without close() (dup2 onto it,
		 * close-on-exec, close_range, io_uring); end the old entry */
		if (ci->state == CONN_TRACED)
			emit_close(pid_tgid, args.fd, ci);
		bpf_map_delete_elem(&conn_info, &key);
		struct capture_stats *st = stats();
		if (st)
			st->stale_conns++;
		ci = NULL;
	}
	if (ci && ci->state == CONN_IGNORED)
		return 0;

	__u8 prefix[HTTP_PREFIX_BYTES] = {};
	enum http_kind kind = HTTP_NONE;
	if (!ci || ci->state == CONN_UNDECIDED) {
		if (args.source != SOURCE_SENDFILE) {
			read_prefix(&args, len, prefix);
			kind = http_kind(prefix);
		}
	}
	if (!ci) {
		/* a socket from before the agent started (or passed to this process): track it
		 * only when it evidently speaks HTTP */
		if (kind == HTTP_NONE)
			return 0;
		__u64 ino = 0;
		struct sock *sk = inet_stream_sock(args.fd, &ino);
		if (!sk)
			return 0;
		ci = track_socket(pid_tgid, args.fd, sk, ino, role_of(kind, dir), CONN_FLAG_JOINED,
				  BPF_NOEXIST);
		if (!ci)
			return 0;
	}

	__u64 position = __sync_fetch_and_add(&ci->position[dir], len);
	if (ci->state == CONN_UNDECIDED) {
		if (kind == HTTP_NONE && !on_capture_port(ci)) {
			ci->state = CONN_IGNORED;
			return 0;
		}
		if (ci->role == ROLE_UNKNOWN)
			ci->role = role_of(kind, dir);
		/* the open goes out before the state says traced, so a data event another thread
		 * emits for this connection can never reach the ring buffer before an open does */
		emit_open(pid_tgid, args.fd, ci);
		ci->state = CONN_TRACED;
	}
	emit_data(pid_tgid, &args, ci, dir, position, len, timestamp_ns);
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
