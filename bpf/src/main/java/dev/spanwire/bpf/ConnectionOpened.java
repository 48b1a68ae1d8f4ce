package dev.spanwire.bpf;

import java.net.InetSocketAddress;

/**
 * A connection starts sending payload: sent before its first {@link DataCaptured}. {@code comm}
 * is the thread's command name (at most 15 characters); uid and gid those of the process;
 * {@code commandLine} the process's arguments separated by NUL bytes, as in /proc/PID/cmdline, as
 * the kernel read them (at most 256 bytes, empty when unreadable).
 */
public record ConnectionOpened(
    long connectionId,
    int pid,
    int tid,
    int fd,
    long timestampNanos,
    int uid,
    int gid,
    InetSocketAddress local,
    InetSocketAddress remote,
    Role role,
    String comm,
    String commandLine)
    implements SocketEvent {}
