package dev.spanwire.exporter.protocol.http1;

/**
 * Where an {@link Http1Parser} is in its stream: the start line, the header block, a body
 * (counted, chunked, until close) with its chunk framing and trailers, or outside HTTP/1 parsing.
 */
enum Http1State {
  // between messages
  START(false, false),
  // the start line: a request line or a status line
  FIRST_TOKEN(true, false),
  TARGET_START(true, false),
  TARGET(true, false),
  PROTOCOL(true, false),
  VERSION_MAJOR(true, false),
  VERSION_DOT(true, false),
  VERSION_MINOR(true, false),
  REQUEST_LINE_CR(true, false),
  REQUEST_LINE_LF(true, false),
  REQUEST_09_LF(true, false),
  STATUS_SPACE(true, false),
  STATUS_CODE(true, false),
  STATUS_AFTER_CODE(true, false),
  REASON(true, false),
  STATUS_LINE_LF(true, false),
  // the header block
  HEADER_LINE_START(true, false),
  HEADER_NAME(true, false),
  HEADER_VALUE_START(true, false),
  HEADER_VALUE(true, false),
  HEADER_VALUE_LF(true, false),
  HEADER_LINE_AFTER_LF(true, false),
  HEAD_END_LF(true, false),
  // the body: by length, chunked (size line, extensions, data, trailers), or until close
  BODY_LENGTH(false, true),
  CHUNK_SIZE_START(false, true),
  CHUNK_SIZE(false, true),
  CHUNK_EXTENSION(false, true),
  CHUNK_EXTENSION_NAME(false, true),
  CHUNK_EXTENSION_VALUE_START(false, true),
  CHUNK_EXTENSION_VALUE(false, true),
  CHUNK_EXTENSION_QUOTED(false, true),
  CHUNK_EXTENSION_QUOTED_ESCAPE(false, true),
  CHUNK_EXTENSION_AFTER_QUOTED(false, true),
  CHUNK_SIZE_LF(false, true),
  CHUNK_DATA(false, true),
  CHUNK_DATA_CR(false, true),
  CHUNK_DATA_LF(false, true),
  TRAILER_LINE_START(false, true),
  TRAILER_LINE(false, true),
  TRAILER_LINE_LF(false, true),
  TRAILER_END_LF(false, true),
  BODY_UNTIL_CLOSE(false, true),
  // outside HTTP/1 parsing
  CLOSED(false, false),
  UPGRADE_PENDING(false, false),
  UPGRADED(false, false),
  RESYNC(false, false);

  /** Inside a start line or header block: its bytes count against the head bound. */
  final boolean inHead;
  /** Inside a body or its chunk framing. */
  final boolean inBody;

  Http1State(boolean inHead, boolean inBody) {
    this.inHead = inHead;
    this.inBody = inBody;
  }
}
