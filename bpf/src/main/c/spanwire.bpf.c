// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Spanwire's kernel programs. The syscall capture source: connections from connect/accept (or
 * found lazily when their first bytes look like HTTP), payload from the read and write families
 * through the shared data path (data_path.h), close; process exit and exec. */
#include "kernel_types.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
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

/* TLS library calls in flight (active entries of ssl_calls) on every thread: while there are
 * none, which is always on a host without TLS traffic, the socket hooks skip the ssl_calls lookup
 * every send and receive would otherwise make. A return probe that never fires leaves it above
 * zero, which costs that lookup again, never a missed connection. */
__s64 ssl_calls_active = 0;

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
	__u64 key = (pid_tgid & 0xffffffff00000000ULL) | (__u32)args.fd;
	capture_data(pid_tgid, args.fd, key, NULL, dir, &src, len, timestamp_ns, false);
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
		track_socket((pid_tgid & 0xffffffff00000000ULL) | (__u32)fd, sk, ino, ROLE_CLIENT, 0, BPF_ANY);
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
		track_socket((pid_tgid & 0xffffffff00000000ULL) | (__u32)fd, sk, ino, ROLE_SERVER, 0, BPF_ANY);
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
		emit_close(key, ci);
	bpf_map_delete_elem(&conn_info, &key);
	return 0;
}

/*
 * The socket capture source (kernel 6.3+): sock:sock_send_length and sock:sock_recv_length fire
 * in every socket send and receive, after the bytes moved; the syscall that moved them is read
 * from the task's registers. Only these (and the TCP state changes) are hooked, so nothing else a
 * process does pays. Connections are keyed by their struct sock.
 */

#if defined(__TARGET_ARCH_x86)
#define NR_read 0
#define NR_write 1
#define NR_readv 19
#define NR_writev 20
#define NR_sendto 44
#define NR_recvfrom 45
#define NR_sendmsg 46
#define NR_recvmsg 47
#define NR_recvmmsg 299
#define NR_sendmmsg 307
#elif defined(__TARGET_ARCH_arm64)
#define NR_read 63
#define NR_write 64
#define NR_readv 65
#define NR_writev 66
#define NR_sendto 206
#define NR_recvfrom 207
#define NR_sendmsg 211
#define NR_recvmsg 212
#define NR_recvmmsg 243
#define NR_sendmmsg 269
#endif

/* struct mmsghdr: a message header and the length the kernel writes back */
struct mmsghdr {
	struct user_msghdr msg_hdr;
	unsigned int msg_len;
};

/* The buffers of a msghdr in user memory into src; false when it cannot be read. */
static __always_inline bool msghdr_source(__u64 msg, struct data_source *src)
{
	struct user_msghdr hdr = {};
	if (bpf_probe_read_user(&hdr, sizeof(hdr), (const void *)msg))
		return false;
	src->buf = (__u64)hdr.msg_iov;
	src->iovcnt = hdr.msg_iovlen;
	src->vectored = 1;
	return true;
}

/* Whether the socket is TCP over IPv4 or IPv6. sk is the tracepoint's BTF pointer: plain loads. */
static __always_inline bool inet_tcp(struct sock *sk)
{
	unsigned short family = sk->__sk_common.skc_family;
	return (family == AF_INET || family == AF_INET6) && sk->sk_protocol == IPPROTO_TCP;
}

static __always_inline int handle_sock_data(struct sock *sk, int ret, int flags, enum direction dir)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	if (!traced_process(pid_tgid >> 32))
		return 0;
	if (ret <= 0) {
		/* a send that moved nothing (EAGAIN on a full socket) leaves no start behind for the
		 * next one to take */
		if (dir == DIRECTION_EGRESS) {
			__u64 key = (__u64)sk;
			struct conn_info *ci = bpf_map_lookup_elem(&conn_info, &key);
			if (ci && ci->send_start_ns)
				ci->send_start_ns = 0;
		}
		return 0;
	}
	/* a peek leaves the bytes for the read that takes them */
	if (dir == DIRECTION_INGRESS && (flags & MSG_PEEK))
		return 0;
	if (!inet_tcp(sk))
		return 0;

	/* which syscall moved the bytes, and where they are in the process; kernel threads and
	 * io_uring workers run no syscall of their own, so their registers say nothing */
	struct task_struct *task = bpf_get_current_task_btf();
	bool user_syscall = !(task->flags & (PF_KTHREAD | PF_IO_WORKER));
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
	long nr = user_syscall ? SYSCALL_NR(regs) : -1;
	__s32 fd = -1;
	bool located = false;
	struct data_source src = {.layer = LAYER_SOCKET};
	src.source = dir == DIRECTION_EGRESS ? SOURCE_WRITE : SOURCE_READ;
	if (nr == NR_read || nr == NR_write || nr == NR_recvfrom || nr == NR_sendto) {
		fd = SYSCALL_ARG0(regs);
		src.buf = SYSCALL_ARG1(regs);
		located = true;
	} else if (nr == NR_readv || nr == NR_writev) {
		fd = SYSCALL_ARG0(regs);
		src.buf = SYSCALL_ARG1(regs);
		src.iovcnt = SYSCALL_ARG2(regs);
		src.vectored = 1;
		src.source = dir == DIRECTION_EGRESS ? SOURCE_WRITEV : SOURCE_READV;
		located = true;
	} else if (nr == NR_recvmsg || nr == NR_sendmsg) {
		fd = SYSCALL_ARG0(regs);
		src.source = dir == DIRECTION_EGRESS ? SOURCE_SENDMSG : SOURCE_RECVMSG;
		located = msghdr_source(SYSCALL_ARG1(regs), &src);
	} else if ((nr == NR_recvmmsg || nr == NR_sendmmsg) && SYSCALL_ARG2(regs) == 1) {
		/* one message: its header is the vector's first; with more, which one this call
		 * moves is not knowable here */
		fd = SYSCALL_ARG0(regs);
		src.source = dir == DIRECTION_EGRESS ? SOURCE_SENDMSG : SOURCE_RECVMSG;
		located = msghdr_source(SYSCALL_ARG1(regs), &src);
	}
	if (!located) {
		/* sendfile and splice move file pages; several messages at once, io_uring and kernel
		 * threads leave no one buffer to read: the length alone keeps the positions right */
		src.source = SOURCE_SENDFILE;
		src.buf = 0;
		src.vectored = 0;
		struct capture_stats *st = stats();
		if (st)
			st->size_only++;
	}
	/* the time is capture_data's to read: a send takes the time its start stamped
	 * (tcp_sendmsg_locked), and a call that sends no event needs none */
	capture_data(pid_tgid, fd, (__u64)sk, sk, dir, &src, ret, 0, true);
	return 0;
}

/* When a send starts on a connection that may be HTTP: sock_send_length fires as the send returns,
 * after loopback (or a fast NIC) has delivered the bytes and the peer's read may have returned
 * already, so a write stamped there could come after the read of its bytes and a client span
 * start after its server's. The first segment of a send stamps it here instead (the tracepoint
 * fires once per segment; a later one finds the stamp taken), and the send's data event carries
 * it. Where the kernel lacks the tracepoint, user space leaves this program out and writes keep
 * the time they returned. */
SEC("tp_btf/tcp_sendmsg_locked")
int BPF_PROG(handle_tcp_sendmsg_locked, struct sock *sk, const void *msg, const void *skb, int size_goal)
{
	if (!traced_process(bpf_get_current_pid_tgid() >> 32))
		return 0;
	__u64 key = (__u64)sk;
	struct conn_info *ci = bpf_map_lookup_elem(&conn_info, &key);
	if (ci && ci->state != CONN_IGNORED && !ci->send_start_ns)
		ci->send_start_ns = bpf_ktime_get_ns();
	return 0;
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(handle_sock_send_length, struct sock *sk, int ret, int flags)
{
	return handle_sock_data(sk, ret, flags, DIRECTION_EGRESS);
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(handle_sock_recv_length, struct sock *sk, int ret, int flags)
{
	return handle_sock_data(sk, ret, flags, DIRECTION_INGRESS);
}

/* TCP state changes give the socket capture connect (SYN_SENT -> ESTABLISHED: client) and
 * accept (SYN_RECV -> ESTABLISHED: server), whatever process context they run in. */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(handle_inet_sock_set_state, struct sock *sk, int oldstate, int newstate)
{
	if (sk->sk_protocol != IPPROTO_TCP)
		return 0;
	if (newstate == TCP_ESTABLISHED && (oldstate == TCP_SYN_SENT || oldstate == TCP_SYN_RECV))
		track_socket((__u64)sk, sk, 0, oldstate == TCP_SYN_SENT ? ROLE_CLIENT : ROLE_SERVER, 0, BPF_ANY);
	return 0;
}

/* The end of a connection is the end of its socket, not the TCP state CLOSE: a reset puts the
 * socket in CLOSE while the process may still read what had arrived before it. */
SEC("tp_btf/tcp_destroy_sock")
int BPF_PROG(handle_tcp_destroy_sock, struct sock *sk)
{
	__u64 key = (__u64)sk;
	struct conn_info *ci = bpf_map_lookup_elem(&conn_info, &key);
	if (!ci)
		return 0;
	if (ci->state == CONN_TRACED)
		emit_close(key, ci);
	bpf_map_delete_elem(&conn_info, &key);
	return 0;
}

/*
 * The TLS source: uprobes on a TLS library's read and write calls (OpenSSL 1.1 and 3, BoringSSL,
 * and OpenSSL linked into an executable, as node has it), attached by user space per library
 * file for every process. The plaintext goes through the same data path on the connection's TLS
 * layer. The connection is the socket the call itself read or wrote (noted by the socket hooks
 * while the call is in flight), or, for a read the library served from its own buffer, the one
 * the same SSL object used last.
 */

static __always_inline int ssl_enter(void *ssl, const void *buf, __u64 count_ptr)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	if (!traced_process(pid_tgid >> 32))
		return 0;
	struct ssl_call call = {
		.ssl = (__u64)ssl,
		.buf = (__u64)buf,
		.count_ptr = count_ptr,
		.start_ns = bpf_ktime_get_ns(),
		.active = 1,
	};
	/* the thread's entry from its last call is overwritten in place: no map update per call */
	struct ssl_call *reused = bpf_map_lookup_elem(&ssl_calls, &pid_tgid);
	if (reused) {
		if (!reused->active)
			__sync_fetch_and_add(&ssl_calls_active, 1);
		*reused = call;
	} else if (!bpf_map_update_elem(&ssl_calls, &pid_tgid, &call, BPF_ANY)) {
		__sync_fetch_and_add(&ssl_calls_active, 1);
	}
	return 0;
}

/* Whether every probe of this probe's library is in place (see armed). The cut is where calls
 * return, as the socket capture's is where bytes move: a request returned before it is not seen,
 * and then neither is its answer, which returns after. */
static __always_inline bool tls_library_armed(void *ctx)
{
	__u64 cookie = 0;
	if (bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_get_attach_cookie))
		cookie = bpf_get_attach_cookie(ctx);
	if (!cookie)
		return true;
	__u32 key = ARMED_TLS;
	__u64 *upto = bpf_map_lookup_elem(&armed, &key);
	return upto && cookie <= *upto;
}

static __always_inline int ssl_exit(void *ctx, long ret, enum direction dir, bool apart)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct ssl_call *in_flight = bpf_map_lookup_elem(&ssl_calls, &pid_tgid);
	if (!in_flight || !in_flight->active)
		return 0;
	struct ssl_call call = *in_flight;
	in_flight->active = 0;
	__sync_fetch_and_add(&ssl_calls_active, -1);
	if (!tls_library_armed(ctx))
		return 0;

	long len = ret;
	if (call.count_ptr) {
		/* the _ex calls return 1 and write the count */
		if (ret != 1)
			return 0;
		__u64 count = 0;
		if (bpf_probe_read_user(&count, sizeof(count), (const void *)call.count_ptr))
			return 0;
		len = count;
	}
	/* a bound the verifier can see (no call moves a gigabyte) */
	if (len <= 0 || len > (1 << 30))
		return 0;

	struct capture_stats *counted = stats();
	if (counted)
		counted->tls_calls++;

	struct ssl_key sk = {.ssl = call.ssl, .tgid = pid_tgid >> 32};
	struct ssl_conn conn = {};
	if (call.conn_key) {
		conn.conn_key = call.conn_key;
		conn.sock = call.sock;
		conn.fd = call.fd;
		/* remembered for reads served from OpenSSL's buffer: in place when the SSL object has
		 * an entry (the thread using the object is the one that reads it), as an LRU update
		 * allocates an element and frees the old one */
		struct ssl_conn *known = bpf_map_lookup_elem(&ssl_conns, &sk);
		if (known)
			*known = conn;
		else
			bpf_map_update_elem(&ssl_conns, &sk, &conn, BPF_ANY);
	} else {
		struct ssl_conn *known = bpf_map_lookup_elem(&ssl_conns, &sk);
		if (known) {
			conn = *known;
		} else {
			/* a library encrypting into memory (node): the TLS connection this thread last
			 * moved ciphertext on; a read follows its ciphertext's read, so it teaches the
			 * SSL object's connection */
			struct ssl_conn *last = bpf_map_lookup_elem(&thread_tls_sock, &pid_tgid);
			if (!last) {
				struct capture_stats *st = stats();
				if (st)
					st->tls_unattributed++;
				return 0;
			}
			conn = *last;
			if (dir == DIRECTION_INGRESS)
				bpf_map_update_elem(&ssl_conns, &sk, &conn, BPF_ANY);
		}
	}
	struct data_source src = {
		.buf = call.buf,
		.source = dir == DIRECTION_EGRESS ? SOURCE_SSL_WRITE : SOURCE_SSL_READ,
		.layer = LAYER_TLS,
	};
	/* a write is stamped when it starts, a read when it returns, like the socket's bytes */
	__u64 ts = dir == DIRECTION_EGRESS ? call.start_ns : bpf_ktime_get_ns();
	capture_data(pid_tgid, conn.fd, conn.conn_key, (struct sock *)conn.sock, dir, &src, len, ts, apart);
	return 0;
}

/*
 * Four programs for the TLS calls: the entries differ by where the count comes from, the returns
 * by direction; one program serves every site of its kind (a program loaded twice is verified
 * twice: 35 ms of every start per return program).
 *
 * int SSL_write(SSL *ssl, const void *buf, int num) and SSL_read return the count.
 */
SEC("uprobe")
int handle_ssl_call(struct pt_regs *ctx)
{
	return ssl_enter((void *)FN_ARG0(ctx), (const void *)FN_ARG1(ctx), 0);
}

/* int SSL_write_ex(SSL *s, const void *buf, size_t num, size_t *written) and SSL_read_ex (and
 * the internal function both forms call, see TlsProbeSites) return 1 and write the count through
 * the fourth argument */
SEC("uprobe")
int handle_ssl_call_ex(struct pt_regs *ctx)
{
	return ssl_enter((void *)FN_ARG0(ctx), (const void *)FN_ARG1(ctx), FN_ARG3(ctx));
}

/* the return of a write (either form: the entry noted which) */
SEC("uretprobe")
int handle_ssl_write_ret(struct pt_regs *ctx)
{
	return ssl_exit(ctx, (int)FN_RET(ctx), DIRECTION_EGRESS, false);
}

SEC("uretprobe")
int handle_ssl_read_ret(struct pt_regs *ctx)
{
	return ssl_exit(ctx, (int)FN_RET(ctx), DIRECTION_INGRESS, false);
}

/* The same returns beside the socket capture (kernel 6.3+): through its global data path, which
 * follows HTTP/2 frames (data_path.h, follow_http2_apart); the syscall capture, for older kernels,
 * loads the two above. */
SEC("uretprobe")
int handle_ssl_write_ret_walk(struct pt_regs *ctx)
{
	return ssl_exit(ctx, (int)FN_RET(ctx), DIRECTION_EGRESS, true);
}

SEC("uretprobe")
int handle_ssl_read_ret_walk(struct pt_regs *ctx)
{
	return ssl_exit(ctx, (int)FN_RET(ctx), DIRECTION_INGRESS, true);
}

SEC("tracepoint/sched/sched_process_exit")
int handle_sched_process_exit(void *ctx)
{
	/* a thread ends: its stashed syscall arguments go with it */
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	bpf_map_delete_elem(&active_reads, &pid_tgid);
	bpf_map_delete_elem(&active_writes, &pid_tgid);
	bpf_map_delete_elem(&active_connects, &pid_tgid);
	struct ssl_call *in_flight = bpf_map_lookup_elem(&ssl_calls, &pid_tgid);
	if (in_flight && in_flight->active)
		__sync_fetch_and_add(&ssl_calls_active, -1);
	bpf_map_delete_elem(&ssl_calls, &pid_tgid);

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
	/* a process runs another program: a traced one's name and close-on-exec sockets changed,
	 * and any one's executable may carry a TLS library user space has not hooked yet */
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	if (traced_process(pid_tgid >> 32))
		emit_proc(EVENT_PROC_EXEC, pid_tgid);
	return 0;
}
