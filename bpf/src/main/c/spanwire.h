/* Records Spanwire's kernel programs put in the `events` ring buffer, and the tunables user space
 * sets before load. Mirrored field by field in dev.spanwire.bpf.EventLayouts; every struct is padded
 * explicitly, never packed, and starts with the event-type discriminator.
 */
#pragma once

/* Upper bound of payload bytes copied per data event: HTTP/2 connections get all of it (a frame of
 * the default maximum size and its header, with room for the frames around it); the capture
 * size a user sets is at most half of it (CaptureConfig.MAX_CAPTURE_BYTES). */
#define MAX_CAPTURE_BYTES 32768
/* Iovec entries inspected per readv/writev/recvmsg/sendmsg call. */
#define MAX_IOVECS 12
/* Ports in the capture port list (0 ends the list). */
#define MAX_CAPTURE_PORTS 16
#define TASK_COMM_LEN 16
/* Bytes of the process's argument area copied into an open event (power of two). */
#define CMDLINE_BYTES 256

enum event_type {
	EVENT_CONN_OPEN = 1,  /* Java: dev.spanwire.bpf.ConnectionOpened */
	EVENT_DATA = 2,       /* Java: dev.spanwire.bpf.DataCaptured */
	EVENT_CONN_CLOSE = 3, /* Java: dev.spanwire.bpf.ConnectionClosed */
	EVENT_PROC_EXIT = 4,  /* Java: dev.spanwire.bpf.ProcessExited */
	EVENT_PROC_EXEC = 5,  /* Java: dev.spanwire.bpf.ProcessExecuted */
};

enum conn_open_flags {
	/* Java: ConnectionOpened.joinedMidStream: found at its first HTTP-looking data rather than
	 * at connect/accept (a socket from before the agent, or passed to the process) */
	OPEN_FLAG_JOINED = 1,
	/* Java: ConnectionOpened.tls: its first bytes were a TLS handshake (ciphertext: counted,
	 * not sent; plaintext comes from a TLS library, if one is hooked) */
	OPEN_FLAG_TLS = 2,
};

enum data_flags {
	/* Java: DataCaptured.lossBefore: bytes of this direction moved before this event without
	 * an event, and without moving the position (a syscall whose arguments could not be kept) */
	DATA_FLAG_LOSS_BEFORE = 1,
	/* Java: DataCaptured.tls: plaintext from a TLS library, with positions of its own */
	DATA_FLAG_TLS = 2,
};

/* Which stream of a connection bytes belong to. */
enum data_layer {
	LAYER_SOCKET = 0, /* what moved on the socket (ciphertext on a TLS connection) */
	LAYER_TLS = 1,    /* plaintext a TLS library read or wrote */
};

enum direction {
	DIRECTION_EGRESS = 0,  /* Java: Direction.EGRESS, the traced process wrote */
	DIRECTION_INGRESS = 1, /* Java: Direction.INGRESS, the traced process read */
};

enum role {
	ROLE_UNKNOWN = 0, /* Java: Role.UNKNOWN */
	ROLE_CLIENT = 1,  /* Java: Role.CLIENT, the process connected or wrote a request first */
	ROLE_SERVER = 2,  /* Java: Role.SERVER, the process accepted or read a request first */
};

enum syscall_source {
	SOURCE_READ = 1,     /* Java: Source.READ */
	SOURCE_READV = 2,    /* Java: Source.READV */
	SOURCE_RECVFROM = 3, /* Java: Source.RECVFROM */
	SOURCE_RECVMSG = 4,  /* Java: Source.RECVMSG */
	SOURCE_WRITE = 5,    /* Java: Source.WRITE */
	SOURCE_WRITEV = 6,   /* Java: Source.WRITEV */
	SOURCE_SENDTO = 7,   /* Java: Source.SENDTO */
	SOURCE_SENDMSG = 8,  /* Java: Source.SENDMSG */
	SOURCE_SENDFILE = 9, /* Java: Source.SENDFILE, size only, no bytes */
	SOURCE_SSL_READ = 10,  /* Java: Source.SSL_READ, plaintext a TLS library returned */
	SOURCE_SSL_WRITE = 11, /* Java: Source.SSL_WRITE, plaintext given to a TLS library */
};

/* Common head of every record. conn_id is unique per agent run (a generation number): the
 * kernel key tgid<<32|fd is reused when a process closes an fd and opens another. */
struct event_header {
	__u32 type;
	__u32 tgid;
	__u32 tid;
	__s32 fd;
	__u64 conn_id;
	__u64 timestamp_ns; /* CLOCK_MONOTONIC (bpf_ktime_get_ns) */
	__u64 conn_key;     /* the connection's key in conn_info (tgid<<32|fd, or its sock's address) */
};

/* A traced connection: sent before its first data event. Addresses are in network order;
 * IPv4 uses the first 4 bytes of saddr/daddr. Ports are in host order. The command line is read
 * here, in the process's own context, because a short-lived client may be gone before user
 * space could read /proc. */
struct conn_open_event {
	struct event_header hdr;
	__u32 uid;
	__u32 gid;
	__u16 family;
	__u16 local_port;
	__u16 remote_port;
	__u8 role;
	__u8 flags;         /* enum conn_open_flags */
	__u8 local_addr[16];
	__u8 remote_addr[16];
	char comm[TASK_COMM_LEN];
	__u32 cmdline_len;  /* bytes of cmdline filled: NUL-separated arguments, maybe cut */
	__u32 pad2;
	__u64 ino;          /* the socket's inode number, as /proc/PID/fd/FD shows it (socket:[ino]) */
	char cmdline[CMDLINE_BYTES];
};

/* Bytes moved by one syscall. position is the stream offset of the first byte in this direction;
 * positions advance by length (the real count) even when only `captured` bytes follow. */
struct data_event {
	struct event_header hdr;
	__u64 position;
	__u32 length;
	__u32 captured;
	__u8 direction;
	__u8 source;
	__u8 flags;         /* enum data_flags */
	__u8 pad[5];
	__u8 data[MAX_CAPTURE_BYTES];
};

/* A traced connection's fd was closed (or reused for a new connection); totals per layer. */
struct conn_close_event {
	struct event_header hdr;
	__u64 bytes_egress;
	__u64 bytes_ingress;
	__u64 tls_bytes_egress;
	__u64 tls_bytes_ingress;
};

/* A traced process ended (its last thread exited) or replaced its program (execve). */
struct proc_event {
	struct event_header hdr;
};

/* Tunables, the only variable in .rodata; user space writes it before load. */
struct capture_config {
	__u32 agent_tgid;      /* never traced */
	__u32 target_tgid;     /* 0 = every process */
	__u32 capture_bytes;   /* payload bytes copied per data event, 1..16384 */
	__u32 wakeup_bytes;    /* wake the reader only when this much data is waiting */
	__u16 capture_ports[MAX_CAPTURE_PORTS]; /* connections on these ports send payload even
						 * when their first bytes do not look like HTTP */
	__u32 all_ports;       /* 1: every port is a capture port (--ports any) */
	__u32 follow_http2;    /* 1: the socket capture follows HTTP/2 frames and leaves large DATA
				* payloads uncopied (0 while bodies are captured) */
};

/* Per-CPU counters, read by user space and summed. */
struct capture_stats {
	__u64 events_lost;     /* ring buffer reservations that failed */
	__u64 bytes_lost;      /* payload bytes of the lost data events */
	__u64 conns_untracked; /* connection table inserts that failed */
	__u64 stash_full;      /* syscalls whose arguments found no room in active_reads/writes */
	__u64 stale_conns;     /* entries whose fd had come to name another file (dup2, exec, ...) */
	__u64 tls_bytes;       /* ciphertext of connections whose plaintext is seen: counted, not sent */
	__u64 size_only;       /* socket capture: data moved by calls with no buffer to read (sendfile,
				* splice, recvmmsg, io_uring, kernel threads): sent as length only */
	__u64 skipped_bytes;   /* bytes user space said it did not need (a body it skips): sent as
				* length only */
	__u64 tls_unattributed; /* TLS library calls whose socket was not found (counted, dropped) */
	__u64 tls_calls;        /* TLS library read and write calls that moved plaintext */
	__u64 pressure_cut;     /* data events copied short (PRESSURE_CAPTURE_BYTES) while the ring
				 * buffer was more than half full: positions kept, the rest not copied */
	__u64 h2_data_uncopied; /* HTTP/2 DATA payload bytes the frame walk left uncopied */
	__u64 h2_walks_lost;    /* HTTP/2 streams whose frame walk lost the boundaries and stopped */
};
