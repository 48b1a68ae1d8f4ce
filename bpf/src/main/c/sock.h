/* Resolving an fd of the current task to its inet stream socket, with CO-RE reads. */
#pragma once

#include "kernel_types.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "maps.h"

/* task->files->fdt->fd[fd] of the current task, or NULL. */
static __always_inline struct file *fd_file(__s32 fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	if (!fdt || fd < 0 || (__u32)fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;

	struct file **fds = BPF_CORE_READ(fdt, fd);
	struct file *file = NULL;
	if (bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]))
		return NULL;
	return file;
}

/* The inode number of the file the fd names now (0 for none): sockets' numbers are unique, so
 * a changed number means the fd was closed and reused without close() being seen. */
static __always_inline __u64 fd_ino(__s32 fd)
{
	struct file *file = fd_file(fd);
	return file ? BPF_CORE_READ(file, f_inode, i_ino) : 0;
}

/* task->files->fdt->fd[fd]->private_data->sk, or NULL unless fd is an AF_INET/AF_INET6 stream
 * socket; *ino receives the socket's inode number. */
static __always_inline struct sock *inet_stream_sock(__s32 fd, __u64 *ino)
{
	struct file *file = fd_file(fd);
	if (!file)
		return NULL;

	/* only sockets keep a struct socket in private_data */
	struct inode *inode = BPF_CORE_READ(file, f_inode);
	unsigned short mode = BPF_CORE_READ(inode, i_mode);
	if ((mode & S_IFMT) != S_IFSOCK)
		return NULL;
	*ino = BPF_CORE_READ(inode, i_ino);

	struct socket *socket = BPF_CORE_READ(file, private_data);
	if (!socket || BPF_CORE_READ(socket, type) != SOCK_STREAM)
		return NULL;

	struct sock *sk = BPF_CORE_READ(socket, sk);
	if (!sk)
		return NULL;
	unsigned short family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (family != AF_INET && family != AF_INET6)
		return NULL;
	return sk;
}

/* Copy the socket's addresses and ports into ci. */
static __always_inline void read_tuple(struct sock *sk, struct conn_info *ci)
{
	ci->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	ci->local_port = BPF_CORE_READ(sk, __sk_common.skc_num);
	ci->remote_port = __builtin_bswap16(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (ci->family == AF_INET) {
		__be32 local = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
		__be32 remote = BPF_CORE_READ(sk, __sk_common.skc_daddr);
		__builtin_memcpy(ci->local_addr, &local, sizeof(local));
		__builtin_memcpy(ci->remote_addr, &remote, sizeof(remote));
	} else {
		BPF_CORE_READ_INTO(&ci->local_addr, sk, __sk_common.skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO(&ci->remote_addr, sk, __sk_common.skc_v6_daddr);
	}
}
