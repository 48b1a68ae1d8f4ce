package dev.spanwire.bpf;

import java.nio.file.Files;
import java.util.Locale;

/**
 * How the kernel programs see socket data. {@link #SOCKET}: the socket tracepoints
 * ({@code sock:sock_send_length} and {@code sock:sock_recv_length}, kernel 6.3+) and TCP state
 * changes and {@code tcp:tcp_destroy_sock}, so only socket operations pay; {@link #SYSCALL}: the read, write, connect, accept and
 * close syscall tracepoints, which put every syscall of every process on the slow path;
 * {@link #AUTO}: the socket one where the kernel has it.
 */
public enum CaptureBackend {
  AUTO,
  SOCKET,
  SYSCALL;

  public static CaptureBackend of(String name) {
    try {
      return valueOf(name.strip().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("unknown capture backend '" + name + "', expected auto, socket or syscall");
    }
  }

  /** Whether this kernel has the socket tracepoints (tracefs must be mounted to tell). */
  public static boolean socketTracepointsAvailable() {
    return Files.isDirectory(Tracefs.MOUNT_POINT.resolve("events/sock/sock_send_length"))
        && Files.isDirectory(Tracefs.MOUNT_POINT.resolve("events/sock/sock_recv_length"))
        && Files.isDirectory(Tracefs.MOUNT_POINT.resolve("events/sock/inet_sock_set_state"))
        && Files.isDirectory(Tracefs.MOUNT_POINT.resolve("events/tcp/tcp_destroy_sock"));
  }

  /** The backend this one runs as here: AUTO decided. */
  public CaptureBackend resolve() {
    return this != AUTO ? this : socketTracepointsAvailable() ? SOCKET : SYSCALL;
  }

  /** The capture source of this (resolved) backend. */
  CaptureSource source() {
    return switch (this) {
      case SOCKET -> SocketTracepoints.INSTANCE;
      case SYSCALL -> SyscallTracepoints.INSTANCE;
      case AUTO -> throw new IllegalStateException("resolve the backend first");
    };
  }

  @Override
  public String toString() {
    return name().toLowerCase(Locale.ROOT);
  }
}
