/* Maps shared by Spanwire's socket programs. Names match dev.spanwire.bpf.SocketCapture. */
#pragma once

#include "kernel_types.h"
#include <bpf/bpf_helpers.h>
#include "spanwire.h"

enum conn_state {
	CONN_UNDECIDED = 0, /* no payload seen yet */
	CONN_TRACED = 1,    /* sends payload to user space */
	CONN_IGNORED = 2,   /* first bytes were not HTTP and no capture port: costs a lookup only */
};

enum conn_flags {
	CONN_FLAG_JOINED = 1,       /* tracked at its first data, not at connect/accept */
	CONN_FLAG_LOSS_PENDING = 2, /* a syscall's bytes were missed: flag the next data event */
	CONN_FLAG_TLS = 4,          /* a TLS library's plaintext was seen: ciphertext is not sent */
	CONN_FLAG_TLS_WIRE = 8,     /* its first bytes were a TLS handshake */
	CONN_FLAG_HTTP2 = 16,       /* its first bytes were HTTP/2's: header frames are copied whole */
};

/* Mirrored by dev.spanwire.bpf.EventLayouts.CONN_INFO: user space reads entries back. */
struct conn_info {
	__u64 id;
	__u64 position[2]; /* next stream offset, indexed by enum direction */
	__u64 tls_position[2]; /* the same for TLS plaintext */
	__u64 ino;         /* the socket's inode number: a reused fd names another inode */
	__u16 family;
	__u16 local_port;
	__u16 remote_port;
	__u8 role;
	__u8 state;
	__u8 flags;        /* enum conn_flags */
	__u8 pad[3];
	__u32 tgid;        /* the process its payload was traced in (set when traced) */
	__s32 fd;          /* its fd there */
	__u8 local_addr[16];
	__u8 remote_addr[16];
	__u64 send_start_ns; /* socket capture: when the send now under way started, or 0 */
};

/* Inet stream sockets, keyed by tgid<<32|fd (syscall capture) or by the struct sock's address
 * (socket capture): seen at connect/accept (their TCP state change), or found lazily. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct conn_info);
} conn_info SEC(".maps");

/* Arguments of a read- or write-family syscall, stashed at enter and used at exit. Each thread's
 * entry is rewritten in place and marked consumed (fd = -1) at exit rather than deleted, which
 * saves a hash insert and delete per syscall; a thread's entries go when it exits. Plain hash
 * maps, never LRU: eviction would silently drop the entry of a thread blocked long in read().
 * User space sizes them for the host; a full map is counted and flags the connection. */
struct data_args {
	__u64 buf;       /* buffer, or iovec array when vectored */
	__u64 start_ns;  /* entry time */
	__s32 fd;        /* -1 once consumed */
	__u32 iovcnt;
	__u8 source;     /* enum syscall_source */
	__u8 vectored;
	__u8 pad[6];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64); /* pid_tgid */
	__type(value, struct data_args);
} active_reads SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64); /* pid_tgid */
	__type(value, struct data_args);
} active_writes SEC(".maps");

/* Processes with traced connections: their exit and exec are reported to user space. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);  /* tgid */
	__type(value, __u8);
} traced_tgids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64); /* pid_tgid */
	__type(value, __s32); /* fd */
} active_connects SEC(".maps");

/* Where a capture source found the bytes it reports. */
struct data_source {
	__u64 buf;      /* the buffer, or an iovec array when vectored */
	__u32 iovcnt;   /* iovecs in the array */
	__u8 vectored;
	__u8 source;    /* enum syscall_source */
	__u8 layer;     /* enum data_layer */
	__u8 pad;
};

/* One direction of a connection: the key of skip_hints and h2_follow. */
struct skip_key {
	__u64 conn_key;
	__u32 direction;
	__u32 pad;
};

/* Where one direction of an HTTP/2 connection's frames stand (data_path.h, follow_http2): the
 * stream position its walk has reached, and where the next frame header begins or the part of
 * one that a syscall's end cut. */
struct h2_follow {
	__u64 conn_id;
	__u64 expect;      /* the position of the next bytes: anything else and the walk stops */
	__u64 next;        /* the position of the next frame header */
	__u64 header;      /* a cut header's first bytes (at most 8), the first in the low byte */
	__u8 fill;         /* how many of them */
	__u8 in_header;    /* the walk is inside a frame header */
	__u8 in_data;      /* the payload before `next` is DATA's */
	__u8 settings_first; /* the next frame is the direction's first: it must be SETTINGS */
	__u8 layer;        /* enum data_layer of the bytes followed */
	__u8 pad[3];
};

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

/* follow_http2's walk through one syscall's bytes (data_path.h). It lives in the per-CPU buffer,
 * map memory, so the verifier treats what the walk's steps load as unknown and checks the step
 * once, instead of following each value's precise range through every possible step. */
struct h2_walk {
	struct data_source src;
	__u64 pos0;       /* the stream position of the syscall's first byte */
	__s64 len;
	__s64 c;          /* the walk's offset in the syscall's bytes */
	__s64 seg;        /* where the bytes not yet sent begin */
	__s64 next;       /* where the next frame header begins */
	__u64 header;     /* a header's first 8 bytes as read so far, the first in the low byte */
	__u32 iovcnt;
	__u32 limit;      /* bytes copied per event at most */
	__u8 header_last; /* its ninth byte */
	__u8 fill;        /* header bytes read */
	__u8 in_header;
	__u8 in_data;
	__u8 settings_first;
	__u8 copied;      /* the syscall's bytes are all in e->data: headers are read there */
	__u8 elide;
	__u8 failed;
	__u8 fresh;       /* the walk starts at the direction's first byte */
	__u64 conn_id;
	/* the walk's map key and the state it leaves, here rather than on a stack the uretprobe's
	 * chain of calls has nearly filled */
	struct skip_key key;
	struct h2_follow left;
};

/* Iovecs the HTTP/2 frame walk reads per vectored call: a server writing frames of many streams
 * at once passes a header and a payload buffer for each (nginx gathers up to 64). */
#define H2_MAX_IOVECS 64

/* A data event under construction. Copies land at an offset below MAX_CAPTURE_BYTES with a size
 * of at most MAX_CAPTURE_BYTES, so the overflow area lets the verifier prove every copy fits. */
struct data_buffer {
	struct data_event event;
	__u8 overflow[MAX_CAPTURE_BYTES];
	/* a vectored call's iovec array, read in one copy (the frame walk reads more of them) */
	struct iovec iovecs[H2_MAX_IOVECS];
	/* copy_range: the stream offset of the iovec it is at (map memory, see copy_payload) */
	__u64 iov_start;
	struct h2_walk walk;
	/* emit_data_apart's arguments (data_path.h, capture_data) */
	struct emit_args args;
};

/* One buffer per CPU, indexed by CPU number. A plain array because a per-CPU array value is
 * limited to 32 KiB. User space sizes it to the number of possible CPUs before load. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, struct data_buffer);
} data_buffers SEC(".maps");

/* A TLS library call in flight on a thread (pid_tgid): the SSL object and the caller's buffer at
 * entry, and the socket the call read or wrote on, when it did. A thread's entry is reused by its
 * next call (written in place, no map update per call) and removed when the thread exits. */
struct ssl_call {
	__u64 ssl;
	__u64 buf;
	__u64 count_ptr; /* SSL_read_ex/SSL_write_ex: where the library writes the count */
	__u64 conn_key;  /* the connection's key; 0 while the call has moved no socket bytes */
	__u64 sock;      /* its struct sock (socket capture), or 0 */
	__u64 start_ns;
	__s32 fd;
	__u32 active; /* 1 from the call's entry to its return: the entry stays, reused, for the thread's life */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64); /* pid_tgid */
	__type(value, struct ssl_call);
} ssl_calls SEC(".maps");

/* What may capture yet. A source's programs attach one by one (a uprobe takes milliseconds, a
 * tracepoint less): one attached while the rest are not yet would see a client's requests and not
 * their answers (or a server's answers and not their requests), and the pairing would put every
 * later answer with a request before its own for the connection's life. So nothing is captured
 * until user space arms it once every program is in place. ARMED_CAPTURE: the socket or syscall
 * programs (0 or 1). ARMED_TLS: the TLS libraries, each of whose probes carries the library's
 * attach sequence number as its cookie, raised to that number after the library's last probe;
 * probes without a cookie (kernels before 5.15) count as armed. */
enum armed_key {
	ARMED_CAPTURE = 0,
	ARMED_TLS = 1,
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} armed SEC(".maps");

/* The connection an SSL object last moved socket bytes on: for reads OpenSSL serves from its own
 * buffer, without a syscall. */
struct ssl_conn {
	__u64 conn_key;
	__u64 sock;
	__s32 fd;
	__u32 pad;
};

/* The TLS connection a thread last moved ciphertext on: for libraries that encrypt into memory
 * (node's memory BIOs), whose calls move no socket bytes themselves. An LRU of 8,192 threads (0.75
 * MiB of preallocated map memory less than 16,384): one evicted has not moved ciphertext for
 * longer than 8,192 others, and its next ciphertext writes it again; a call that needed it
 * meanwhile is counted unattributed. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u64); /* pid_tgid */
	__type(value, struct ssl_conn);
} thread_tls_sock SEC(".maps");

/* An SSL object: its address is the process's own */
struct ssl_key {
	__u64 ssl;
	__u32 tgid;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct ssl_key);
	__type(value, struct ssl_conn);
} ssl_conns SEC(".maps");

/* User space's word that a direction's bytes before `until` are not needed (a body it skips by
 * length): the kernel sends their length only. Per connection generation, removed once passed. */
struct skip_hint {
	__u64 conn_id;
	__u64 until;
};

/* LRU: a connection that ends before its hint is passed leaves it to be evicted */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct skip_key);
	__type(value, struct skip_hint);
} skip_hints SEC(".maps");

/* LRU: an entry whose connection ended is evicted in time; its conn_id tells it from a new one.
 * 8,192 directions, 4,096 busy HTTP/2 connections (0.9 MiB of preallocated map memory less than
 * 16,384): a walk evicted mid-stream is not resumed (follow_http2 finds no entry at a position
 * past 0), so that direction's bytes are copied whole from then on, counted as a walk lost. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, struct skip_key);
	__type(value, struct h2_follow);
} h2_follow SEC(".maps");

/* Records for user space; user space may resize it before load (power of two, page multiple). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 * 1024 * 1024);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct capture_stats);
} capture_stats SEC(".maps");
