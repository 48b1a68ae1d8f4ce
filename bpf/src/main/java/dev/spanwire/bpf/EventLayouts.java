package dev.spanwire.bpf;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.MemoryLayout.paddingLayout;
import static java.lang.foreign.MemoryLayout.sequenceLayout;
import static java.lang.foreign.MemoryLayout.structLayout;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.StructLayout;

/**
 * The C structs of {@code spanwire.h}, field by field. {@code EventLayoutsTest} checks every
 * offset and size against the BTF of the compiled object, so the two cannot drift apart.
 */
final class EventLayouts {
  /** {@code enum event_type}. */
  static final int EVENT_CONN_OPEN = 1;

  static final int EVENT_DATA = 2;
  static final int EVENT_CONN_CLOSE = 3;
  static final int EVENT_PROC_EXIT = 4;
  static final int EVENT_PROC_EXEC = 5;

  /** {@code OPEN_FLAG_JOINED}. */
  static final int OPEN_FLAG_JOINED = 1;
  /** {@code OPEN_FLAG_TLS}. */
  static final int OPEN_FLAG_TLS = 2;

  /** {@code DATA_FLAG_LOSS_BEFORE}. */
  static final int DATA_FLAG_LOSS_BEFORE = 1;

  /** {@code DATA_FLAG_TLS}. */
  static final int DATA_FLAG_TLS = 2;

  /** {@code MAX_CAPTURE_BYTES}: the most payload bytes one data event carries. */
  static final int MAX_CAPTURE_BYTES = 32768;

  /** {@code CMDLINE_BYTES}. */
  static final int CMDLINE_BYTES = 256;

  /** {@code MAX_CAPTURE_PORTS}. */
  static final int MAX_CAPTURE_PORTS = 16;

  static final StructLayout EVENT_HEADER =
      structLayout(
          JAVA_INT.withName("type"),
          JAVA_INT.withName("tgid"),
          JAVA_INT.withName("tid"),
          JAVA_INT.withName("fd"),
          JAVA_LONG.withName("conn_id"),
          JAVA_LONG.withName("timestamp_ns"),
          JAVA_LONG.withName("conn_key"));

  static final StructLayout CONN_OPEN_EVENT =
      structLayout(
          EVENT_HEADER.withName("hdr"),
          JAVA_INT.withName("uid"),
          JAVA_INT.withName("gid"),
          JAVA_SHORT.withName("family"),
          JAVA_SHORT.withName("local_port"),
          JAVA_SHORT.withName("remote_port"),
          JAVA_BYTE.withName("role"),
          JAVA_BYTE.withName("flags"),
          sequenceLayout(16, JAVA_BYTE).withName("local_addr"),
          sequenceLayout(16, JAVA_BYTE).withName("remote_addr"),
          sequenceLayout(16, JAVA_BYTE).withName("comm"),
          JAVA_INT.withName("cmdline_len"),
          JAVA_INT.withName("pad2"),
          JAVA_LONG.withName("ino"),
          sequenceLayout(CMDLINE_BYTES, JAVA_BYTE).withName("cmdline"));

  /** {@code struct data_event} without its payload array, which is variable in a record. */
  static final StructLayout DATA_EVENT_HEAD =
      structLayout(
          EVENT_HEADER.withName("hdr"),
          JAVA_LONG.withName("position"),
          JAVA_INT.withName("length"),
          JAVA_INT.withName("captured"),
          JAVA_BYTE.withName("direction"),
          JAVA_BYTE.withName("source"),
          JAVA_BYTE.withName("flags"),
          paddingLayout(5));

  static final StructLayout DATA_EVENT =
      structLayout(
          EVENT_HEADER.withName("hdr"),
          JAVA_LONG.withName("position"),
          JAVA_INT.withName("length"),
          JAVA_INT.withName("captured"),
          JAVA_BYTE.withName("direction"),
          JAVA_BYTE.withName("source"),
          JAVA_BYTE.withName("flags"),
          sequenceLayout(5, JAVA_BYTE).withName("pad"),
          sequenceLayout(MAX_CAPTURE_BYTES, JAVA_BYTE).withName("data"));

  static final StructLayout CONN_CLOSE_EVENT =
      structLayout(
          EVENT_HEADER.withName("hdr"),
          JAVA_LONG.withName("bytes_egress"),
          JAVA_LONG.withName("bytes_ingress"),
          JAVA_LONG.withName("tls_bytes_egress"),
          JAVA_LONG.withName("tls_bytes_ingress"));

  static final StructLayout PROC_EVENT = structLayout(EVENT_HEADER.withName("hdr"));

  /** {@code struct conn_info} of maps.h: the kernel's connection entry, read back by lookups. */
  static final StructLayout CONN_INFO =
      structLayout(
          JAVA_LONG.withName("id"),
          sequenceLayout(2, JAVA_LONG).withName("position"),
          sequenceLayout(2, JAVA_LONG).withName("tls_position"),
          JAVA_LONG.withName("ino"),
          JAVA_SHORT.withName("family"),
          JAVA_SHORT.withName("local_port"),
          JAVA_SHORT.withName("remote_port"),
          JAVA_BYTE.withName("role"),
          JAVA_BYTE.withName("state"),
          JAVA_BYTE.withName("flags"),
          sequenceLayout(3, JAVA_BYTE).withName("pad"),
          JAVA_INT.withName("tgid"),
          JAVA_INT.withName("fd"),
          sequenceLayout(16, JAVA_BYTE).withName("local_addr"),
          sequenceLayout(16, JAVA_BYTE).withName("remote_addr"),
          paddingLayout(4),
          JAVA_LONG.withName("send_start_ns"));

  static final StructLayout CAPTURE_CONFIG =
      structLayout(
          JAVA_INT.withName("agent_tgid"),
          JAVA_INT.withName("target_tgid"),
          JAVA_INT.withName("capture_bytes"),
          JAVA_INT.withName("wakeup_bytes"),
          sequenceLayout(MAX_CAPTURE_PORTS, JAVA_SHORT).withName("capture_ports"),
          JAVA_INT.withName("all_ports"),
          JAVA_INT.withName("follow_http2"));

  static final StructLayout CAPTURE_STATS =
      structLayout(
          JAVA_LONG.withName("events_lost"),
          JAVA_LONG.withName("bytes_lost"),
          JAVA_LONG.withName("conns_untracked"),
          JAVA_LONG.withName("stash_full"),
          JAVA_LONG.withName("stale_conns"),
          JAVA_LONG.withName("tls_bytes"),
          JAVA_LONG.withName("size_only"),
          JAVA_LONG.withName("skipped_bytes"),
          JAVA_LONG.withName("tls_unattributed"),
          JAVA_LONG.withName("tls_calls"),
          JAVA_LONG.withName("pressure_cut"),
          JAVA_LONG.withName("h2_data_uncopied"),
          JAVA_LONG.withName("h2_walks_lost"));

  /** struct skip_key and struct skip_hint of maps.h. */
  static final StructLayout SKIP_KEY =
      structLayout(JAVA_LONG.withName("conn_key"), JAVA_INT.withName("direction"), JAVA_INT.withName("pad"));

  static final StructLayout SKIP_HINT = structLayout(JAVA_LONG.withName("conn_id"), JAVA_LONG.withName("until"));

  private EventLayouts() {}

  static long offset(StructLayout layout, String field) {
    return layout.byteOffset(groupElement(field));
  }

  static long headerOffset(String field) {
    return offset(EVENT_HEADER, field);
  }
}
