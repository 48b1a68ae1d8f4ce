/* The kernel's data path, shared by every capture source: connections, their positions, and the
 * events sent to user space. A source finds where the bytes are and calls capture_data(). */
#pragma once

#include "kernel_types.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "spanwire.h"
#include "maps.h"
#include "sock.h"
#include "protocol_http.h"

/* Included by an object after its globals: `config` (the tunables), `next_conn_id` and
 * `ssl_calls_active`. */

/* Where a capture source found the bytes it reports. */
struct data_source {
	__u64 buf;      /* the buffer, or an iovec array when vectored */
	__u32 iovcnt;   /* iovecs in the array */
	__u8 vectored;
	__u8 source;    /* enum syscall_source */
	__u8 layer;     /* enum data_layer */
	__u8 pad;
};

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

/* What a data event copies while the ring buffer is more than half full (see emit_data). */
#define PRESSURE_CAPTURE_BYTES 512

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
					__s32 fd, __u64 key, __u64 conn_id, __u64 timestamp_ns)
{
	hdr->type = type;
	hdr->tgid = pid_tgid >> 32;
	hdr->tid = (__u32)pid_tgid;
	hdr->fd = fd;
	hdr->conn_id = conn_id;
	hdr->timestamp_ns = timestamp_ns;
	hdr->conn_key = key;
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

static __always_inline void emit_open(__u64 pid_tgid, __s32 fd, __u64 key, struct conn_info *ci)
{
	ci->tgid = pid_tgid >> 32;
	ci->fd = fd;
	/* reserve sample from ring buffer */
	struct conn_open_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_lost(0);
		return;
	}
	fill_header(&e->hdr, EVENT_CONN_OPEN, pid_tgid, fd, key, ci->id, bpf_ktime_get_ns());
	__u64 uid_gid = bpf_get_current_uid_gid();
	e->uid = (__u32)uid_gid;
	e->gid = uid_gid >> 32;
	e->family = ci->family;
	e->local_port = ci->local_port;
	e->remote_port = ci->remote_port;
	e->role = ci->role;
	e->flags = (ci->flags & CONN_FLAG_JOINED ? OPEN_FLAG_JOINED : 0) | (ci->flags & CONN_FLAG_TLS ? OPEN_FLAG_TLS : 0);
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
	fill_header(&e->hdr, type, pid_tgid, -1, 0, 0, bpf_ktime_get_ns());
	bpf_ringbuf_submit(e, BPF_RB_FORCE_WAKEUP);
}

/* The close of a traced connection, named by the process and fd it was traced in (the socket
 * capture sees the end of a connection outside that process). */
static __always_inline void emit_close(__u64 key, const struct conn_info *ci)
{
	struct conn_close_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_lost(0);
		return;
	}
	fill_header(&e->hdr, EVENT_CONN_CLOSE, (__u64)ci->tgid << 32 | ci->tgid, ci->fd, key, ci->id, bpf_ktime_get_ns());
	e->bytes_egress = ci->position[DIRECTION_EGRESS];
	e->bytes_ingress = ci->position[DIRECTION_INGRESS];
	e->tls_bytes_egress = ci->tls_position[DIRECTION_EGRESS];
	e->tls_bytes_ingress = ci->tls_position[DIRECTION_INGRESS];
	bpf_ringbuf_submit(e, wakeup_flags());
}

static __always_inline __u8 role_of(enum http_kind kind, enum direction dir)
{
	if (kind == HTTP_NONE || kind == HTTP2_FRAME)
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
/* Start a fresh entry for a socket at key, closing whatever the key held before. */
static __always_inline struct conn_info *track_socket(__u64 key, struct sock *sk, __u64 ino,
						      __u8 role, __u8 conn_flags, __u64 flags)
{
	struct conn_info *old = bpf_map_lookup_elem(&conn_info, &key);
	if (old && old->state == CONN_TRACED)
		emit_close(key, old);

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
static __always_inline void read_prefix(const struct data_source *args, long len,
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

/*
 * Copy up to `want` bytes of the transferred data into e->data, their count into e->captured.
 * The count of a vectored copy lives in the event (map memory), not in a register, between the
 * iovecs: the verifier then sees every path into the next iovec alike and checks each of the
 * unrolled iterations once, where a count it tracked made the paths (an empty iovec, a short one)
 * multiply with each iteration (365,000 instructions processed of the socket receive program,
 * 0.7 s of every start).
 */
static __always_inline void copy_payload(struct data_buffer *buf, const struct data_source *args, __u32 want)
{
	struct data_event *e = &buf->event;
	e->captured = 0;
	if (want == 0)
		return;
	if (!args->vectored) {
		__u32 n = ((want - 1) & (MAX_CAPTURE_BYTES - 1)) + 1;
		if (!bpf_probe_read_user(e->data, n, (const void *)args->buf))
			e->captured = n;
		return;
	}

	/* the iovecs in one read (a read costs ~150 ns whatever its size: the user-copy checks) */
	__u32 iovcnt = args->iovcnt < MAX_IOVECS ? args->iovcnt : MAX_IOVECS;
	if (bpf_probe_read_user(buf->iovecs, iovcnt * sizeof(struct iovec), (const void *)args->buf))
		return;
	for (int i = 0; i < MAX_IOVECS; i++) {
		__u32 copied = *(volatile __u32 *)&e->captured;
		if (i >= iovcnt || copied >= want)
			break;
		struct iovec iov = buf->iovecs[i];
		__u32 left = want - copied;
		__u32 n = iov.iov_len < left ? iov.iov_len : left;
		if (n == 0)
			continue;
		/* both masks are no-ops at run time; they bound offset and size for the verifier */
		__u32 offset = copied & (MAX_CAPTURE_BYTES - 1);
		n = ((n - 1) & (MAX_CAPTURE_BYTES - 1)) + 1;
		if (bpf_probe_read_user(e->data + offset, n, iov.iov_base))
			break;
		e->captured = copied + n;
	}
}

static __always_inline void emit_data(__u64 pid_tgid, __s32 fd, __u64 key, const struct data_source *args,
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
	fill_header(&e->hdr, EVENT_DATA, pid_tgid, fd, key, ci->id, timestamp_ns);
	e->position = position;
	e->length = len;
	e->direction = dir;
	e->source = args->source;
	e->flags = args->layer == LAYER_TLS ? DATA_FLAG_TLS : 0;
	if (ci->flags & CONN_FLAG_LOSS_PENDING) {
		/* a syscall before this one moved bytes unseen, without moving the position */
		e->flags |= DATA_FLAG_LOSS_BEFORE;
		ci->flags &= ~CONN_FLAG_LOSS_PENDING;
	}

	/* copy the payload prefix; sendfile moves file pages, not user bytes */
	__u32 want = 0;
	/* HTTP/2 header blocks cannot be read in part (HPACK's table would be lost): frames up to
	 * the default maximum frame size are copied whole on HTTP/2 connections */
	__u32 limit = ci->flags & CONN_FLAG_HTTP2 ? MAX_CAPTURE_BYTES : config.capture_bytes;
	/* a ring buffer more than half full (user space behind: a burst, a body the parser has not
	 * told the kernel to skip yet) gets each event's first bytes only; the stream's positions go
	 * on and a message's head is read as far as they hold it, where a full ring would lose whole
	 * events and start a spiral (a lost head sends no skip hint, so its body is copied too) */
	if (!(ci->flags & CONN_FLAG_HTTP2) && limit > PRESSURE_CAPTURE_BYTES && len > PRESSURE_CAPTURE_BYTES &&
	    bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) * 2 > bpf_ringbuf_query(&events, BPF_RB_RING_SIZE)) {
		limit = PRESSURE_CAPTURE_BYTES;
		struct capture_stats *st = stats();
		if (st)
			st->pressure_cut++;
	}
	if (args->source != SOURCE_SENDFILE)
		want = len < limit ? len : limit;
	copy_payload(buf, args, want);
	__u32 captured = e->captured;
	if (captured > MAX_CAPTURE_BYTES) {
		captured = MAX_CAPTURE_BYTES;
		e->captured = captured;
	}

	/* send header and captured bytes only */
	__u64 size = __builtin_offsetof(struct data_event, data) + captured;
	if (bpf_ringbuf_output(&events, e, size, wakeup_flags()))
		count_lost(len);
}

/* emit_data's arguments in one struct: a BPF function takes five at most. */
struct emit_args {
	__u64 pid_tgid;
	__u64 key;
	__u64 position;
	__u64 timestamp_ns;
	__s64 len;
	struct data_source src;
	__s32 fd;
	__u32 dir;
};

/*
 * emit_data as a global function, which the verifier checks once for the program that calls it
 * instead of once for every path that reaches it (the socket programs reach it along some
 * fifteen: which layer, whether the connection was known, decided or just opened, a skip hint).
 * Global functions taking pointers need kernel 5.12; the socket capture needs 6.3 anyway, the
 * syscall capture (kernel 5.8+) keeps emit_data inline.
 */
__noinline int emit_data_apart(struct emit_args *a, struct conn_info *ci)
{
	if (!a || !ci)
		return 0;
	emit_data(a->pid_tgid, a->fd, a->key, &a->src, ci, a->dir & 1, a->position, a->len, a->timestamp_ns);
	return 0;
}

/* The first bytes of a TLS connection: a handshake record (type 22, version 3.x). */
static __always_inline bool tls_handshake(const __u8 prefix[HTTP_PREFIX_BYTES])
{
	return prefix[0] == 0x16 && prefix[1] == 0x03 && prefix[2] <= 0x04;
}

/* This thread moved ciphertext on this TLS connection. A thread's entry is overwritten in place
 * (only this thread reads it): an LRU update allocates an element and frees the old one, and an
 * event-loop thread changes connection at nearly every call. */
static __always_inline void note_tls_socket(__u64 pid_tgid, __u64 key, struct sock *sock, __s32 fd)
{
	struct ssl_conn last = {.conn_key = key, .sock = (__u64)sock, .fd = fd};
	struct ssl_conn *noted = bpf_map_lookup_elem(&thread_tls_sock, &pid_tgid);
	if (noted)
		*noted = last;
	else
		bpf_map_update_elem(&thread_tls_sock, &pid_tgid, &last, BPF_ANY);
}

/* Bytes this small are copied even when user space does not need them: a lookup would cost more. */
#define SKIP_MIN_BYTES 512

/* A data event with the length only (bytes user space said it does not need): no copy. */
static __always_inline void emit_skipped(__u64 pid_tgid, __s32 fd, __u64 key, const struct data_source *src,
					 struct conn_info *ci, enum direction dir, __u64 position, long len,
					 __u64 timestamp_ns)
{
	struct data_event *e = bpf_ringbuf_reserve(&events, __builtin_offsetof(struct data_event, data), 0);
	if (!e) {
		count_lost(len);
		return;
	}
	fill_header(&e->hdr, EVENT_DATA, pid_tgid, fd, key, ci->id, timestamp_ns);
	e->position = position;
	e->length = len;
	e->direction = dir;
	e->source = src->source;
	e->flags = src->layer == LAYER_TLS ? DATA_FLAG_TLS : 0;
	if (ci->flags & CONN_FLAG_LOSS_PENDING) {
		e->flags |= DATA_FLAG_LOSS_BEFORE;
		ci->flags &= ~CONN_FLAG_LOSS_PENDING;
	}
	e->captured = 0;
	bpf_ringbuf_submit(e, wakeup_flags());
	struct capture_stats *st = stats();
	if (st)
		st->skipped_bytes += len;
}

/*
 * The one data path every capture source calls: bytes moved on socket fd of the current task,
 * in direction dir, found where src says, len of them, at timestamp_ns. A source that knows the
 * struct sock (the socket capture) passes it and keys the connection by its address; one that
 * does not (the syscall capture) passes NULL and keys by tgid<<32|fd, checking the fd still
 * names the socket. It finds (or starts) the connection, decides on first bytes whether it is
 * traced, advances the stream position of src's layer and emits the data event.
 */
static __always_inline void capture_data(__u64 pid_tgid, __s32 fd, __u64 key, struct sock *sock,
					 enum direction dir, const struct data_source *src, long len,
					 __u64 timestamp_ns, bool emit_apart)
{
	struct conn_info *ci = bpf_map_lookup_elem(&conn_info, &key);
	if (ci && (ci->flags & CONN_FLAG_TLS_WIRE) && src->layer == LAYER_SOCKET)
		note_tls_socket(pid_tgid, key, sock, fd);
	if (src->layer == LAYER_SOCKET && ssl_calls_active > 0) {
		/* inside a TLS library call: this socket is the call's connection (the syscall
		 * capture sees every fd: an eventfd or pipe written in the call is not it) */
		struct ssl_call *call = bpf_map_lookup_elem(&ssl_calls, &pid_tgid);
		if (call && call->active && !call->conn_key) {
			__u64 ino = 0;
			if (sock || (ci ? fd_ino(fd) == ci->ino : inet_stream_sock(fd, &ino) != NULL)) {
				call->conn_key = key;
				call->sock = (__u64)sock;
				call->fd = fd;
			}
		}
	}
	if (!sock && ci && fd_ino(fd) != ci->ino) {
		/* the fd names another file now: its socket went without close() (dup2 onto it,
		 * close-on-exec, close_range, io_uring); end the old entry */
		if (ci->state == CONN_TRACED)
			emit_close(key, ci);
		bpf_map_delete_elem(&conn_info, &key);
		struct capture_stats *st = stats();
		if (st)
			st->stale_conns++;
		ci = NULL;
	}
	if (ci && ci->state == CONN_IGNORED) {
		/* its socket bytes did not look like HTTP; plaintext from a TLS library decides anew */
		if (src->layer != LAYER_TLS)
			return;
		ci->state = CONN_UNDECIDED;
	}

	__u8 prefix[HTTP_PREFIX_BYTES] = {};
	enum http_kind kind = HTTP_NONE;
	/* a TLS connection traced from its handshake shows its protocol in its first plaintext */
	bool first_plaintext = ci && src->layer == LAYER_TLS && !ci->tls_position[0] && !ci->tls_position[1];
	if (!ci || ci->state == CONN_UNDECIDED || first_plaintext) {
		if (src->source != SOURCE_SENDFILE) {
			read_prefix(src, len, prefix);
			kind = http_kind(prefix);
		}
	}
	if (first_plaintext && ci->state != CONN_UNDECIDED && http2_start(kind, prefix))
		ci->flags |= CONN_FLAG_HTTP2;
	if (!ci) {
		/* a socket from before the agent started (or passed to this process): track it
		 * only when it evidently speaks HTTP */
		if (kind == HTTP_NONE)
			return;
		__u64 ino = 0;
		struct sock *sk = sock ? sock : inet_stream_sock(fd, &ino);
		if (!sk)
			return;
		ci = track_socket(key, sk, ino, role_of(kind, dir),
				  CONN_FLAG_JOINED | (http2_start(kind, prefix) ? CONN_FLAG_HTTP2 : 0), BPF_NOEXIST);
		if (!ci)
			return;
	}

	/* plaintext from a TLS library has stream positions of its own; once a connection's plaintext
	 * is seen, its ciphertext is counted, not sent */
	__u64 position;
	if (src->layer == LAYER_TLS) {
		ci->flags |= CONN_FLAG_TLS;
		position = __sync_fetch_and_add(&ci->tls_position[dir & 1], len);
	} else {
		position = __sync_fetch_and_add(&ci->position[dir & 1], len);
		if (ci->flags & CONN_FLAG_TLS) {
			struct capture_stats *st = stats();
			if (st)
				st->tls_bytes += len;
			return;
		}
	}
	if (ci->state == CONN_UNDECIDED && kind == HTTP_NONE && src->layer == LAYER_SOCKET && tls_handshake(prefix)) {
		ci->flags |= CONN_FLAG_TLS_WIRE;
		note_tls_socket(pid_tgid, key, sock, fd);
	}
	if (ci->state == CONN_UNDECIDED) {
		if (http2_start(kind, prefix))
			ci->flags |= CONN_FLAG_HTTP2;
		if (kind == HTTP_NONE && src->layer == LAYER_SOCKET && tls_handshake(prefix) && on_capture_port(ci)) {
			/* TLS on a capture port: the connection is reported, its ciphertext counted, not
			 * sent; plaintext from a hooked TLS library takes its place */
			ci->flags |= CONN_FLAG_TLS;
			emit_open(pid_tgid, fd, key, ci);
			ci->state = CONN_TRACED;
			struct capture_stats *st = stats();
			if (st)
				st->tls_bytes += len;
			return;
		}
		if (kind == HTTP_NONE && !on_capture_port(ci) &&
		    !http_start_prefix(prefix, len)) {
			ci->state = CONN_IGNORED;
			return;
		}
		if (ci->role == ROLE_UNKNOWN)
			ci->role = role_of(kind, dir);
		/* the open goes out before the state says traced, so a data event another thread
		 * emits for this connection can never reach the ring buffer before an open does */
		emit_open(pid_tgid, fd, key, ci);
		ci->state = CONN_TRACED;
	}

	/* a body user space skips by length: send the length of what lies before the place it
	 * named, and copy from that place on (from the start when the bytes are in several buffers) */
	struct data_source rest = *src;
	if (len >= SKIP_MIN_BYTES) {
		struct skip_key sk = {.conn_key = key, .direction = dir & 1};
		struct skip_hint *hint = bpf_map_lookup_elem(&skip_hints, &sk);
		if (hint) {
			__u64 hint_id = hint->conn_id;
			__u64 until = hint->until;
			if (hint_id != ci->id || position + len >= until)
				/* another connection's, or passed with these bytes */
				bpf_map_delete_elem(&skip_hints, &sk);
			if (hint_id == ci->id && position < until) {
				if (position + len < until && !(ci->flags & CONN_FLAG_LOSS_PENDING)) {
					/* inside the body: no event at all; user space counts the
					 * hole before the next one as skipped, as it asked */
					struct capture_stats *st = stats();
					if (st)
						st->skipped_bytes += len;
					return;
				}
				if (position + len <= until) {
					/* the body's last bytes: their time ends the message */
					emit_skipped(pid_tgid, fd, key, src, ci, dir, position, len, timestamp_ns);
					return;
				}
				if (!src->vectored) {
					__u64 before = until - position;
					emit_skipped(pid_tgid, fd, key, src, ci, dir, position, before, timestamp_ns);
					rest.buf += before;
					position = until;
					len -= before;
				}
			}
		}
	}
	if (emit_apart) {
		struct emit_args a = {};
		a.pid_tgid = pid_tgid;
		a.key = key;
		a.position = position;
		a.timestamp_ns = timestamp_ns;
		a.len = len;
		a.src = rest;
		a.fd = fd;
		a.dir = dir;
		emit_data_apart(&a, ci);
		return;
	}
	emit_data(pid_tgid, fd, key, &rest, ci, dir, position, len, timestamp_ns);
}
