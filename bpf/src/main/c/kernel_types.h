/* Minimal kernel types for Spanwire's BPF programs.
 *
 * Only the fields the programs read are declared. preserve_access_index makes every access a
 * CO-RE relocation that libbpf resolves against the running kernel's BTF, so field offsets here
 * do not matter and the build does not depend on the build machine's kernel.
 */
#pragma once

typedef unsigned char __u8;
typedef signed char __s8;
typedef unsigned short __u16;
typedef short __s16;
typedef unsigned int __u32;
typedef int __s32;
typedef unsigned long long __u64;
typedef long long __s64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;
typedef _Bool bool;
#define true 1
#define false 0
#define NULL ((void *)0)

/* UAPI constants (stable ABI numbers from linux/bpf.h) used by the map definitions. */
enum bpf_map_type {
	BPF_MAP_TYPE_HASH = 1,
	BPF_MAP_TYPE_ARRAY = 2,
	BPF_MAP_TYPE_PERCPU_ARRAY = 6,
	BPF_MAP_TYPE_LRU_HASH = 9,
	BPF_MAP_TYPE_RINGBUF = 27,
};

/* Helper ids, for CO-RE checks of what this kernel has (bpf_core_enum_value_exists). */
enum bpf_func_id {
	BPF_FUNC_get_attach_cookie = 174,
};

enum {
	BPF_ANY = 0,
	BPF_NOEXIST = 1,
};

enum {
	BPF_RB_NO_WAKEUP = 1,
	BPF_RB_FORCE_WAKEUP = 2,
};

enum {
	BPF_RB_AVAIL_DATA = 0,
	BPF_RB_RING_SIZE = 1,
};

#define AF_INET 2
#define AF_INET6 10
#define SOCK_STREAM 1
#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define MSG_PEEK 2
#define EINPROGRESS 115
#define IPPROTO_TCP 6
#define TCP_ESTABLISHED 1
#define TCP_SYN_SENT 2
#define TCP_SYN_RECV 3
#define TCP_CLOSE 7

/* Layout of the syscall tracepoint records (see events/syscalls/.../format in tracefs). */
struct syscall_enter_ctx {
	__u64 common;
	long syscall_nr;
	unsigned long args[6];
};

struct syscall_exit_ctx {
	__u64 common;
	long syscall_nr;
	long ret;
};

/* User-space ABI structs (stable). */
struct iovec {
	void *iov_base;
	unsigned long iov_len;
};

struct user_msghdr {
	void *msg_name;
	int msg_namelen;
	struct iovec *msg_iov;
	unsigned long msg_iovlen;
	void *msg_control;
	unsigned long msg_controllen;
	unsigned int msg_flags;
};

/* Kernel structs, relocated by CO-RE. */
#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)

struct in6_addr {
	__u8 s6_addr[16];
};

struct inode {
	unsigned short i_mode;
	unsigned long i_ino;
};

struct file {
	struct inode *f_inode;
	void *private_data;
};

struct fdtable {
	unsigned int max_fds;
	struct file **fd;
};

struct files_struct {
	struct fdtable *fdt;
};

struct mm_struct {
	unsigned long arg_start;
	unsigned long arg_end;
};

typedef struct {
	int counter;
} atomic_t;

struct signal_struct {
	atomic_t live;
};

/* task_struct.flags bits (include/linux/sched.h) */
#define PF_IO_WORKER 0x00000010
#define PF_KTHREAD 0x00200000

struct task_struct {
	unsigned int flags;
	struct files_struct *files;
	struct mm_struct *mm;
	struct signal_struct *signal;
};

/* The kernel nests these in anonymous unions; libbpf matches the names through them. */
struct sock_common {
	__be32 skc_daddr;
	__be32 skc_rcv_saddr;
	__be16 skc_dport;
	__u16 skc_num;
	unsigned short skc_family;
	struct in6_addr skc_v6_daddr;
	struct in6_addr skc_v6_rcv_saddr;
};

struct sock {
	struct sock_common __sk_common;
	__u16 sk_protocol;
};

struct socket {
	short type;
	struct sock *sk;
};

/* The user registers of a task in a syscall (bpf_task_pt_regs): the syscall's number and arguments.
 * The helper returns a BTF pointer, so these are plain loads (the verifier guards them), not
 * probe-read helper calls. */
#if defined(__TARGET_ARCH_x86)
struct pt_regs {
	unsigned long r8;
	unsigned long ax;
	unsigned long cx;
	unsigned long r10;
	unsigned long dx;
	unsigned long si;
	unsigned long di;
	unsigned long orig_ax;
	unsigned long ip;
	unsigned long sp;
};
#define SYSCALL_NR(regs) ((regs)->orig_ax)
#define SYSCALL_ARG0(regs) ((regs)->di)
#define SYSCALL_ARG1(regs) ((regs)->si)
#define SYSCALL_ARG2(regs) ((regs)->dx)
/* a user function's arguments and return value, at a uprobe and a uretprobe */
#define FN_ARG0(regs) ((regs)->di)
#define FN_ARG1(regs) ((regs)->si)
#define FN_ARG3(regs) ((regs)->cx)
#define FN_RET(regs) ((regs)->ax)
#elif defined(__TARGET_ARCH_arm64)
struct user_pt_regs {
	__u64 regs[31];
	__u64 sp;
	__u64 pc;
	__u64 pstate;
};

struct pt_regs {
	__u64 regs[31];
	__u64 sp;
	__u64 pc;
	__u64 orig_x0;
	__s32 syscallno;
};
#define SYSCALL_NR(regs) ((regs)->syscallno)
#define SYSCALL_ARG0(regs) ((regs)->orig_x0)
#define SYSCALL_ARG1(regs) ((regs)->regs[1])
#define SYSCALL_ARG2(regs) ((regs)->regs[2])
#define FN_ARG0(regs) ((regs)->regs[0])
#define FN_ARG1(regs) ((regs)->regs[1])
#define FN_ARG3(regs) ((regs)->regs[3])
#define FN_RET(regs) ((regs)->regs[0])
#endif

#pragma clang attribute pop
