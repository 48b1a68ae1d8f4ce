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
 * saves a wakeup per event under load. The record of `size` bytes that takes the waiting data
 * past a multiple of config.wakeup_bytes wakes it, no other: a wakeup queues an interrupt on this
 * CPU (in a VM, a trapped APIC write of microseconds), and a reader behind by more than that
 * much is awake already — waking it on every record then cost the traced processes more than the
 * rest of the capture (perf: bpf_ringbuf_output's irq_work_queue, native_write_msr). Records
 * written at once on several CPUs may all miss a crossing; the next multiple, or the reader's
 * poll timer, wakes it then. `reserved`: the record is in the ring already (reserve, submit). */
static __always_inline __u64 wakeup_flags(__u64 size, bool reserved)
{
	__u64 every = config.wakeup_bytes;
	if (every == 0)
		return 0;
	__u64 after = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	if (!reserved)
		after += size;
	__u64 before = after > size ? after - size : 0;
	return before / every != after / every ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
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
	/* a process's first traced connection wakes the reader now: it reads /proc for the process,
	 * which may not live long; a process it knows waits like any data (a keep-alive client or
	 * server opens one connection after another) */
	__u32 tgid = pid_tgid >> 32;
	bool known = bpf_map_lookup_elem(&traced_tgids, &tgid) != NULL;
	bpf_ringbuf_submit(e, known ? wakeup_flags(sizeof(*e), true) : BPF_RB_FORCE_WAKEUP);

	/* its exit and exec concern user space from now on */
	if (!known) {
		__u8 one = 1;
		bpf_map_update_elem(&traced_tgids, &tgid, &one, BPF_ANY);
	}
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
	bpf_ringbuf_submit(e, wakeup_flags(sizeof(*e), true));
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

/* A vectored call's first H2_MAX_IOVECS iovecs into buf->iovecs, in one read; returns how many
 * (0: none or unreadable). */
static __always_inline __u32 read_iovecs(struct data_buffer *buf, const struct data_source *args)
{
	__u32 iovcnt = args->iovcnt < H2_MAX_IOVECS ? args->iovcnt : H2_MAX_IOVECS;
	if (iovcnt == 0 || bpf_probe_read_user(buf->iovecs, iovcnt * sizeof(struct iovec), (const void *)args->buf))
		return 0;
	return iovcnt;
}

/*
 * Copy bytes [from, from + want) of the transferred data into e->data, their count into
 * e->captured (fewer when the data ends first); a vectored call's iovecs must be in buf->iovecs
 * (read_iovecs). copy_payload's copy from any place, for the HTTP/2 walk; the counts live in map
 * memory between the iovecs for the same reason as there. copy_payload keeps its own loop: this
 * one's added checks cost the verifier 12,000 more instructions in each syscall exit program.
 */
static __always_inline void copy_range(struct data_buffer *buf, const struct data_source *args, __u32 iovcnt,
				       __u64 from, __u32 want)
{
	struct data_event *e = &buf->event;
	e->captured = 0;
	if (want == 0)
		return;
	if (!args->vectored) {
		__u32 n = ((want - 1) & (MAX_CAPTURE_BYTES - 1)) + 1;
		if (!bpf_probe_read_user(e->data, n, (const void *)(args->buf + from)))
			e->captured = n;
		return;
	}
	buf->iov_start = 0;
	for (int i = 0; i < H2_MAX_IOVECS; i++) {
		__u32 copied = *(volatile __u32 *)&e->captured;
		__u64 start = *(volatile __u64 *)&buf->iov_start;
		if (i >= iovcnt || copied >= want)
			break;
		struct iovec iov = buf->iovecs[i];
		buf->iov_start = start + iov.iov_len;
		__u64 at = from + copied;
		if (at < start || at >= start + iov.iov_len)
			continue; /* the range begins in a later iovec */
		__u64 skip = at - start;
		__u64 avail = iov.iov_len - skip;
		__u32 left = want - copied;
		__u32 n = avail < left ? avail : left;
		/* both masks are no-ops at run time; they bound offset and size for the verifier */
		__u32 offset = copied & (MAX_CAPTURE_BYTES - 1);
		n = ((n - 1) & (MAX_CAPTURE_BYTES - 1)) + 1;
		if (bpf_probe_read_user(e->data + offset, n, iov.iov_base + skip))
			break;
		e->captured = copied + n;
	}
}

/* copy_range of the bytes the HTTP/2 walk is on (buf->walk's source and iovecs) as a global
 * function: checked once, where each inlined copy multiplied the paths of the walk around it. For
 * the socket capture only (kernel 6.3 and later). */
__noinline int copy_range_apart(struct data_buffer *buf, __u64 from, __u32 want)
{
	if (!buf)
		return 0;
	copy_range(buf, &buf->walk.src, buf->walk.iovcnt, from, want);
	return 0;
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

/* This CPU's data event, its header filled for the bytes at hand; NULL (counted lost) when there is none. */
static __always_inline struct data_buffer *start_data_event(__u64 pid_tgid, __s32 fd, __u64 key,
							    const struct data_source *args, struct conn_info *ci,
							    enum direction dir, __u64 position, long len,
							    __u64 timestamp_ns)
{
	__u32 cpu = bpf_get_smp_processor_id();
	struct data_buffer *buf = bpf_map_lookup_elem(&data_buffers, &cpu);
	if (!buf) {
		count_lost(len);
		return NULL;
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
	return buf;
}

static __always_inline void emit_data(__u64 pid_tgid, __s32 fd, __u64 key, const struct data_source *args,
				      struct conn_info *ci, enum direction dir,
				      __u64 position, long len, __u64 timestamp_ns)
{
	struct data_buffer *buf = start_data_event(pid_tgid, fd, key, args, ci, dir, position, len, timestamp_ns);
	if (!buf)
		return;
	struct data_event *e = &buf->event;

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
	if (bpf_ringbuf_output(&events, e, size, wakeup_flags(size, false)))
		count_lost(len);
}


/*
 * HTTP/2 bodies without their copies. On an HTTP/2 connection the kernel follows the frames of
 * each direction from its start (the client's preface, then SETTINGS first on either side): a
 * frame header's length says where the next begins, across syscalls. A DATA payload of at least
 * H2_ELIDE_MIN bytes in one syscall is not copied: the syscall's bytes go out as several data
 * events, each copying what lies before such a payload (frame headers, header blocks, small DATA)
 * and sending the payload as its length only, which user space's frame reader takes as DATA it
 * need not read. Header blocks are always copied whole (HPACK needs every one). Anything the walk
 * cannot vouch for — bytes it did not see, a position it does not expect, a first frame that is
 * not SETTINGS, more frames in one syscall than it walks, a gathered write of more buffers than it
 * reads — ends it for that direction (counted), and the connection's bytes are copied as before.
 */
#define H2_ELIDE_MIN 1024
/* Syscalls up to this size are copied whole and their frame headers read from the copy. */
#define H2_SMALL_BYTES 1024
/* Walk steps per syscall: a frame takes two (its header, its payload). */
#define H2_WALK_STEPS 1024

/* Send bytes [w->seg, run_end) as one event copying [w->seg, w->c): run_end - w->c bytes of DATA go uncopied. */
static __always_inline void h2_send_segment(struct h2_walk *w, struct data_buffer *buf, __s64 run_end)
{
	struct data_event *e = &buf->event;
	__s64 want = w->c - w->seg;
	if (want > w->limit)
		want = w->limit;
	e->position = w->pos0 + w->seg;
	e->length = run_end - w->seg;
	copy_range_apart(buf, w->seg, want);
	__u32 captured = e->captured;
	if (captured > MAX_CAPTURE_BYTES)
		captured = MAX_CAPTURE_BYTES;
	__u64 size = __builtin_offsetof(struct data_event, data) + captured;
	if (bpf_ringbuf_output(&events, e, size, wakeup_flags(size, false)))
		count_lost(run_end - w->seg);
	e->flags &= ~DATA_FLAG_LOSS_BEFORE;
	struct capture_stats *st = stats();
	if (st)
		st->h2_data_uncopied += run_end - w->c;
	w->seg = run_end;
}

/* One step of the walk (a bpf_loop callback): a frame header's bytes, or a payload's. 1 ends it.
 * Its copies are calls: inlined, the verifier went through the walk's step five times as many
 * instructions (16,700 -> 86,600 for a socket program, 0.6 s more of every start). */
static long h2_walk_step(__u32 index, void *ctx)
{
	__u32 cpu = bpf_get_smp_processor_id();
	struct data_buffer *buf = bpf_map_lookup_elem(&data_buffers, &cpu);
	if (!buf)
		return 1;
	struct h2_walk *w = &buf->walk;
	if (w->c >= w->len || w->failed)
		return 1;
	struct data_event *e = &buf->event;
	if (!w->in_header && w->c < w->next) {
		/* a payload: a large enough run of DATA goes uncopied */
		__s64 run_end = w->next < w->len ? w->next : w->len;
		if (w->in_data && w->elide && run_end - w->c >= H2_ELIDE_MIN)
			h2_send_segment(w, buf, run_end);
		w->c = run_end;
		return 0;
	}
	if (!w->in_header) {
		w->in_header = 1;
		w->fill = 0;
		w->header = 0;
		w->header_last = 0;
	}
	/* the header's next bytes, as many as this syscall has */
	__u32 fill = w->fill < 9 ? w->fill : 9;
	__u32 need = 9 - fill;
	__s64 avail = w->len - w->c;
	__u32 n = avail < need ? avail : need;
	__u32 base = 0;
	if (w->copied) {
		base = w->c;
	} else {
		copy_range_apart(buf, w->c, n);
		if (e->captured != n) {
			w->failed = 1;
			return 1;
		}
	}
	for (__u32 k = 0; k < 9; k++) {
		if (k >= n)
			break;
		__u64 byte = e->data[(base + k) & (MAX_CAPTURE_BYTES - 1)];
		__u32 at = fill + k;
		if (at < 8)
			w->header |= byte << (8 * at);
		else
			w->header_last = byte;
	}
	w->fill = fill + n;
	w->c += n;
	if (w->fill < 9)
		return 1; /* the header goes on in the next syscall */

	__u64 h = w->header;
	__u32 length = (h & 0xff) << 16 | (h & 0xff00) | ((h >> 16) & 0xff);
	__u8 type = (h >> 24) & 0xff;
	__u8 flags = (h >> 32) & 0xff;
	__u32 stream = ((h >> 40) & 0x7f) << 24 | ((h >> 48) & 0xff) << 16 | ((h >> 56) & 0xff) << 8 | w->header_last;
	if (w->settings_first) {
		/* each side's first frame is SETTINGS (RFC 9113, 3.4): anything else, and these are
		 * not the frame boundaries the walk took them for */
		if (type != 0x04 || flags != 0 || stream != 0 || length % 6 != 0) {
			w->failed = 1;
			return 1;
		}
		w->settings_first = 0;
	}
	w->in_header = 0;
	w->fill = 0;
	w->next = w->c + length;
	/* a padded DATA frame's first byte is its pad length, which user space reads */
	w->in_data = type == 0x00 && !(flags & 0x08);
	return 0;
}

/* The rest of the walked syscall's bytes, from `seg`, as one event (e's header filled, e->data
 * holding them all when `copied`). */
static __always_inline void h2_send_rest(struct data_buffer *buf, __u64 position, long len, __s64 seg, bool copied)
{
	struct data_event *e = &buf->event;
	if (seg < 0 || seg >= len)
		return;
	if (!(copied && seg == 0)) {
		__s64 want = len - seg;
		if (want > MAX_CAPTURE_BYTES)
			want = MAX_CAPTURE_BYTES;
		copy_range_apart(buf, seg, want);
	}
	e->position = position + seg;
	e->length = len - seg;
	__u32 captured = e->captured;
	if (captured > MAX_CAPTURE_BYTES)
		captured = MAX_CAPTURE_BYTES;
	__u64 size = __builtin_offsetof(struct data_event, data) + captured;
	if (bpf_ringbuf_output(&events, e, size, wakeup_flags(size, false)))
		count_lost(len - seg);
}

/* A direction's walk stops where it cannot vouch for the bytes: its entry goes, counted when it
 * was this connection's (another connection's is stale, from a socket the key named before). */
static __always_inline void h2_walk_end(struct h2_follow *f, __u64 conn_id, struct skip_key *key)
{
	if (!f)
		return;
	if (f->conn_id == conn_id) {
		struct capture_stats *st = stats();
		if (st)
			st->h2_walks_lost++;
	}
	bpf_map_delete_elem(&h2_follow, key);
}

/*
 * The socket capture's data path on an HTTP/2 connection (see above): 0 when no walk covers these
 * bytes (the caller sends them as usual), 1 when they went out here. A global function, checked
 * once (the socket capture needs kernel 6.3; bpf_loop came in 5.17).
 */
__noinline int follow_http2_apart(struct emit_args *a, struct conn_info *ci)
{
	if (!a || !ci)
		return 0;
	__u32 cpu = bpf_get_smp_processor_id();
	struct data_buffer *buf = bpf_map_lookup_elem(&data_buffers, &cpu);
	if (!buf)
		return 0;
	/* the walk's values live in the buffer, read back where needed: few registers stay live
	 * across the calls below, so this frame stays small (the TLS return programs' chain of calls
	 * has a little room left of its 512 bytes) */
	struct h2_walk *w = &buf->walk;
	w->key.conn_key = a->key;
	w->key.direction = a->dir & 1;
	w->key.pad = 0;
	w->pos0 = a->position;
	w->len = a->len;
	w->conn_id = ci->id;
	w->src = a->src;
	w->next = 0;
	w->header = 0;
	w->header_last = 0;
	w->fill = 0;
	w->in_header = 0;
	w->in_data = 0;
	w->settings_first = 1;
	bool lossy = ci->flags & CONN_FLAG_LOSS_PENDING;
	struct h2_follow *f = bpf_map_lookup_elem(&h2_follow, &w->key);
	bool resume = f && f->conn_id == ci->id && f->layer == a->src.layer && f->expect == a->position && !lossy;
	if (a->src.source == SOURCE_SENDFILE) {
		/* file pages (nginx sends a DATA frame's header by writev, its payload by sendfile) or
		 * bytes without one buffer: inside a DATA payload that holds them all, the walk passes
		 * them by their length; anything else ends it. Either way they go as a length. */
		if (resume && !f->in_header && f->in_data && f->next >= a->position + a->len) {
			f->expect = a->position + a->len;
		} else {
			h2_walk_end(f, ci->id, &w->key);
		}
		return 0;
	}
	if (resume) {
		w->fresh = 0;
		w->next = f->next - a->position;
		w->header = f->header;
		w->fill = f->fill;
		w->in_header = f->in_header;
		w->in_data = f->in_data;
		w->settings_first = f->settings_first;
	} else if (a->position == 0 && !lossy && a->len >= 4) {
		w->fresh = 1;
	} else {
		h2_walk_end(f, ci->id, &w->key);
		return 0;
	}
	if (!start_data_event(a->pid_tgid, a->fd, a->key, &a->src, ci, a->dir & 1, a->position, a->len, a->timestamp_ns))
		return 1;

	struct data_event *e = &buf->event;
	w->c = 0;
	w->seg = 0;
	w->limit = MAX_CAPTURE_BYTES;
	w->copied = 0;
	w->elide = 0;
	w->failed = 0;
	w->iovcnt = 0;
	bool walk = true;
	if (w->src.vectored) {
		w->iovcnt = read_iovecs(buf, &w->src);
		walk = w->iovcnt > 0;
	}
	if (walk && w->len <= H2_SMALL_BYTES) {
		copy_range_apart(buf, 0, w->len);
		walk = e->captured == w->len;
		w->copied = walk;
	} else {
		w->elide = 1;
	}
	if (walk && w->fresh) {
		/* the client's side begins with the 24-byte preface, "PRI * HTTP/2.0..." */
		if (!w->copied)
			copy_range_apart(buf, 0, 4);
		walk = e->captured >= 4;
		if (walk && e->data[0] == 'P' && e->data[1] == 'R' && e->data[2] == 'I' && e->data[3] == ' ')
			w->next = 24;
	}
	if (walk)
		bpf_loop(H2_WALK_STEPS, h2_walk_step, NULL, 0);

	/* more frames than the walk takes, or bytes it could not read */
	f = bpf_map_lookup_elem(&h2_follow, &w->key);
	if (!walk || w->failed || (w->c < w->len && !w->in_header)) {
		struct capture_stats *st = stats();
		if (st)
			st->h2_walks_lost++;
		if (f)
			bpf_map_delete_elem(&h2_follow, &w->key);
	} else {
		struct h2_follow *now = f ? f : &w->left;
		now->conn_id = w->conn_id;
		now->expect = w->pos0 + w->len;
		now->next = w->pos0 + w->next;
		now->header = w->header;
		now->fill = w->fill;
		now->in_header = w->in_header;
		now->in_data = w->in_data;
		now->settings_first = w->settings_first;
		now->layer = w->src.layer;
		if (!f)
			bpf_map_update_elem(&h2_follow, &w->key, now, BPF_ANY);
	}
	h2_send_rest(buf, w->pos0, w->len, w->seg, w->copied && w->seg == 0);
	return 1;
}

/*
 * emit_data as a global function, which the verifier checks once for the program that calls it
 * instead of once for every path that reaches it (the socket programs reach it along some
 * fifteen: which layer, whether the connection was known, decided or just opened, a skip hint).
 * Global functions taking pointers need kernel 5.12; the socket capture needs 6.3 anyway, the
 * syscall capture (kernel 5.8+) keeps emit_data inline.
 */
__noinline int emit_data_whole_apart(struct emit_args *a, struct conn_info *ci)
{
	if (!a || !ci)
		return 0;
	emit_data(a->pid_tgid, a->fd, a->key, &a->src, ci, a->dir & 1, a->position, a->len, a->timestamp_ns);
	return 0;
}

/* emit_data_whole_apart, or the HTTP/2 walk's path; a frame of its own this small keeps the
 * chain of calls under the walk (the TLS return programs', the longest) within 512 bytes. */
__noinline int emit_data_apart(struct emit_args *a, struct conn_info *ci)
{
	if (!a || !ci)
		return 0;
	if (config.follow_http2 && (ci->flags & CONN_FLAG_HTTP2) && follow_http2_apart(a, ci))
		return 0;
	return emit_data_whole_apart(a, ci);
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
	bpf_ringbuf_submit(e, wakeup_flags(__builtin_offsetof(struct data_event, data), true));
	struct capture_stats *st = stats();
	if (st)
		st->skipped_bytes += len;
}

/* A call's time, read from the clock only when an event needs it (0: not read yet): a call on an
 * ignored connection, on a TLS connection whose ciphertext is counted only, or inside a body user
 * space skips sends no event and reads no clock. */
static __always_inline __u64 stamp_or_now(__u64 stamp)
{
	return stamp ? stamp : bpf_ktime_get_ns();
}

/*
 * The one data path every capture source calls: bytes moved on socket fd of the current task,
 * in direction dir, found where src says, len of them, at timestamp_ns (0: now, see stamp_or_now;
 * for the socket capture's send, the time its start stamped). A source that knows the struct sock
 * (the socket capture) passes it and keys the connection by its address; one that does not (the
 * syscall capture) passes NULL and keys by tgid<<32|fd, checking the fd still names the socket. It
 * finds (or starts) the connection, decides on first bytes whether it is traced, advances the
 * stream position of src's layer and emits the data event.
 */
static __always_inline void capture_data(__u64 pid_tgid, __s32 fd, __u64 key, struct sock *sock,
					 enum direction dir, const struct data_source *src, long len,
					 __u64 timestamp_ns, bool emit_apart)
{
	if (src->layer == LAYER_SOCKET) {
		/* nothing until every program of the capture source is attached (see armed) */
		__u32 armed_key = ARMED_CAPTURE;
		__u64 *capturing = bpf_map_lookup_elem(&armed, &armed_key);
		if (!capturing || !*capturing)
			return;
	}
	struct conn_info *ci = bpf_map_lookup_elem(&conn_info, &key);
	if (ci && sock && dir == DIRECTION_EGRESS && src->layer == LAYER_SOCKET && ci->send_start_ns) {
		/* the socket capture's write, stamped when it started as the syscall capture's are */
		timestamp_ns = ci->send_start_ns;
		ci->send_start_ns = 0;
	}
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
				timestamp_ns = stamp_or_now(timestamp_ns);
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
	timestamp_ns = stamp_or_now(timestamp_ns);
	if (emit_apart) {
		/* the arguments in this CPU's buffer, not on the stack: the TLS return programs' chain
		 * of calls (this, emit_data_apart, the HTTP/2 walk, its copy) would pass 512 bytes */
		__u32 cpu = bpf_get_smp_processor_id();
		struct data_buffer *buf = bpf_map_lookup_elem(&data_buffers, &cpu);
		if (!buf) {
			count_lost(len);
			return;
		}
		struct emit_args *a = &buf->args;
		a->pid_tgid = pid_tgid;
		a->key = key;
		a->position = position;
		a->timestamp_ns = timestamp_ns;
		a->len = len;
		a->src = rest;
		a->fd = fd;
		a->dir = dir;
		emit_data_apart(a, ci);
		return;
	}
	emit_data(pid_tgid, fd, key, &rest, ci, dir, position, len, timestamp_ns);
}
