package dev.spanwire.exporter.protocol.http2;

import dev.spanwire.bpf.Direction;
import dev.spanwire.bpf.Role;
import dev.spanwire.exporter.exchange.Exchange;
import dev.spanwire.exporter.exchange.Headers;
import dev.spanwire.exporter.exchange.Request;
import dev.spanwire.exporter.exchange.Response;
import dev.spanwire.exporter.protocol.BodyBudget;
import dev.spanwire.exporter.protocol.BodyPrefix;
import dev.spanwire.exporter.protocol.HeaderSelection;
import dev.spanwire.exporter.protocol.ProtocolSession;
import dev.spanwire.exporter.protocol.ProtocolStats;
import dev.spanwire.exporter.protocol.SessionContext;
import java.util.Arrays;
import java.util.List;

/**
 * One HTTP/2 connection: frames per direction, HPACK per direction, requests and responses paired
 * by stream. An exchange is reported when its response ends (END_STREAM, after trailers if any),
 * when its stream is reset, past a GOAWAY, or when the connection ends; a request that got no
 * response is reported without one. A message whose :method, :path or :status could not be known
 * (HPACK desynchronised) is dropped and counted, never reported with a guess.
 */
final class Http2Session implements ProtocolSession {
  /** Open streams kept per connection; the oldest past it is dropped and counted. */
  static final int MAX_STREAMS = 1024;
  private static final int SETTINGS_HEADER_TABLE_SIZE = 0x1;

  private final SessionContext context;
  private final ProtocolStats stats;
  /** Header names kept of every message, or null for all of them. */
  private final java.util.Set<String> keptNames;
  private final int bodyCaptureBytes;
  private final BodyBudget bodies;
  private final DirectionState egress;
  private final DirectionState ingress;
  private final StreamTable<Stream> streams = new StreamTable<>();
  /** Streams opened so far: a stream's place in that order tells the oldest. */
  private long opened;
  /** The direction requests flow in (the client's sending side), once known. */
  private Direction requestDirection;
  private boolean closed;

  Http2Session(SessionContext context) {
    this.context = context;
    this.stats = context.stats();
    HeaderSelection selection = context.settings().headers();
    if (selection.all()) {
      this.keptNames = null;
    } else {
      java.util.Set<String> names = new java.util.HashSet<>(selection.names());
      names.addAll(Fields.GRPC_FIELDS);
      this.keptNames = names;
    }
    this.bodyCaptureBytes = context.settings().bodyCaptureBytes();
    this.bodies = context.settings().bodies();
    boolean synced = !context.joinedMidStream();
    this.egress = new DirectionState(Direction.EGRESS, synced);
    this.ingress = new DirectionState(Direction.INGRESS, synced);
    Role role = context.connection().role();
    if (role == Role.CLIENT) {
      requestDirection = Direction.EGRESS;
    } else if (role == Role.SERVER) {
      requestDirection = Direction.INGRESS;
    }
    Request upgrade = context.handedOver();
    if (upgrade != null && requestDirection != null) {
      // HTTP/1's Upgrade: h2c request is stream 1's, half-closed by the client (RFC 7540 3.2)
      Stream stream = new Stream(1, requestDirection, bodies);
      stream.order = opened++;
      stream.builtRequest = new StreamRequest(1, new Request.Simple(upgrade.method(), upgrade.target(), upgrade.authority(),
          upgrade.userAgent(), upgrade.headers(), upgrade.declaredLength(), upgrade.bodyBytes(), upgrade.hasBody(),
          upgrade.bodyPrefix(), upgrade.bodyPrefixCut(), upgrade.startNanos(), upgrade.headNanos(), upgrade.endNanos(),
          upgrade.truncated()), -1);
      stream.requestStartNanos = upgrade.startNanos();
      stream.requestHeadNanos = upgrade.headNanos();
      stream.requestEndNanos = upgrade.endNanos();
      stream.lastNanos = upgrade.endNanos();
      stream.requestEnded = true;
      stream.tid = context.lastTid(requestDirection);
      streams.put(1, stream);
    }
  }

  private DirectionState state(Direction direction) {
    return direction == Direction.EGRESS ? egress : ingress;
  }

  private DirectionState other(DirectionState state) {
    return state == egress ? ingress : egress;
  }

  @Override
  public int onBytes(Direction direction, byte[] data, int offset, int length, long position, long timestampNanos) {
    state(direction).reader.feed(data, offset, length, timestampNanos);
    return length;
  }

  @Override
  public void onSkipped(Direction direction, long count, long position, long timestampNanos) {
    state(direction).reader.skip(count, timestampNanos);
  }

  @Override
  public void onGap(Direction direction, long count, long position, long timestampNanos) {
    state(direction).reader.gap(count, timestampNanos);
  }

  @Override
  public void onClose(long timestampNanos) {
    endAll(timestampNanos, true);
  }

  @Override
  public void onStop() {
    endAll(0, true);
  }

  /**
   * Evicted (idle, or past the connection bound): the streams under way cannot be answered here any
   * more; each is counted unpaired (and as an unpaired request when its request was seen), as an
   * evicted HTTP/1 connection counts its waiting requests, never forgotten uncounted.
   */
  @Override
  public void onEvict() {
    for (Stream stream : streams.values()) {
      if (stream.reported || stream.responseUnknown) {
        continue;
      }
      stats.unpaired.increment();
      if (stream.request != null) {
        stats.unpairedRequests.increment();
      }
    }
    releaseAllBodies();
    closed = true;
  }

  private void endAll(long timestampNanos, boolean report) {
    if (closed) {
      return;
    }
    closed = true;
    List<Stream> open = streams.values();
    open.sort(java.util.Comparator.comparingLong(s -> s.order));
    for (Stream stream : open) {
      if (report) {
        finish(stream, timestampNanos > 0 ? timestampNanos : stream.lastNanos, true);
      }
    }
    releaseAllBodies();
  }

  /** What one direction's frames mean. */
  private final class DirectionState implements FrameReader.Listener {
    final Direction direction;
    final FrameReader reader;
    final HpackDecoder hpack;
    /** A header block under way (HEADERS or PUSH_PROMISE, then CONTINUATION). */
    private byte[] block = new byte[512];
    private int blockFill;
    private int blockStream = -1;
    private int blockFlags;
    private int promised = -1;
    private boolean blockCut;
    private long blockStartNanos;

    DirectionState(Direction direction, boolean synced) {
      this.direction = direction;
      this.reader = new FrameReader(this, true, synced);
      this.hpack = new HpackDecoder(synced);
    }

    @Override
    public void frame(int type, int flags, int streamId, byte[] payload, int length, boolean cut, long timestampNanos) {
      switch (type) {
        case FrameReader.HEADERS, FrameReader.PUSH_PROMISE -> {
          int start = Http2Frames.fragmentStart(type, flags, payload, length);
          // a cut frame's padding is in the part not captured
          int end = cut ? length : Http2Frames.fragmentEnd(type, flags, payload, length);
          if (start > end) {
            stats.parseErrors.increment(); // only a cut frame gets here: too little of it to read
            hpack.desync();
            return;
          }
          int promisedId = type == FrameReader.PUSH_PROMISE ? Http2Frames.u31(payload, start - 4) : -1;
          blockFill = 0;
          blockStream = streamId;
          blockFlags = flags;
          promised = promisedId;
          blockCut = cut;
          blockStartNanos = timestampNanos;
          append(payload, start, Math.max(0, end - start));
          if ((flags & FrameReader.FLAG_END_HEADERS) != 0) {
            endBlock(timestampNanos);
          }
        }
        case FrameReader.CONTINUATION -> {
          if (streamId != blockStream) {
            return; // a CONTINUATION without its HEADERS: the block went uncaptured
          }
          blockCut |= cut;
          append(payload, 0, length);
          if ((flags & FrameReader.FLAG_END_HEADERS) != 0) {
            endBlock(timestampNanos);
          }
        }
        case FrameReader.SETTINGS -> {
          if ((flags & FrameReader.FLAG_ACK) == 0) {
            for (int i = 0; i + 6 <= length; i += 6) {
              int id = ((payload[i] & 0xff) << 8) | (payload[i + 1] & 0xff);
              long value = ((long) (payload[i + 2] & 0xff) << 24) | ((payload[i + 3] & 0xff) << 16)
                  | ((payload[i + 4] & 0xff) << 8) | (payload[i + 5] & 0xff);
              // what this side receives: the other direction's table
              if (id == SETTINGS_HEADER_TABLE_SIZE) {
                other(this).hpack.allowTableSize(value);
              }
            }
          }
        }
        case FrameReader.RST_STREAM -> {
          Stream stream = streams.get(streamId);
          if (stream != null) {
            stats.http2Resets.increment();
            stream.reset = true;
            stream.resetCode = length >= 4 ? (int) Http2Frames.u32(payload, 0) : Http2Frames.CANCEL;
            finish(stream, timestampNanos, false);
          }
        }
        case FrameReader.GOAWAY -> {
          if (length >= 4) {
            int last = ((payload[0] & 0x7f) << 24) | ((payload[1] & 0xff) << 16) | ((payload[2] & 0xff) << 8) | (payload[3] & 0xff);
            // streams the sender of GOAWAY did not take: those the other side opened above `last`
            List<Stream> open = streams.values();
            open.sort(java.util.Comparator.comparingLong(s -> s.order));
            for (Stream stream : open) {
              if (stream.id > last && stream.requestDirection != direction) {
                stats.http2Resets.increment();
                stream.reset = true;
                stream.resetCode = Http2Frames.REFUSED_STREAM; // not processed: safe to retry
                finish(stream, timestampNanos, false);
              }
            }
          }
        }
        default -> {
          // PRIORITY, PING, WINDOW_UPDATE and unknown types carry nothing reported
        }
      }
    }

    private void append(byte[] bytes, int offset, int count) {
      if (blockFill + count > FrameReader.MAX_COLLECTED) {
        blockCut = true;
        count = Math.max(0, FrameReader.MAX_COLLECTED - blockFill);
      }
      if (block.length < blockFill + count) {
        block = Arrays.copyOf(block, Math.max(blockFill + count, block.length * 2));
      }
      System.arraycopy(bytes, offset, block, blockFill, count);
      blockFill += count;
    }

    private void endBlock(long timestampNanos) {
      int streamId = blockStream;
      blockStream = -1;
      if (blockCut) {
        stats.http2CutHeaders.increment();
        hpack.desync();
        return;
      }
      Stream existing = promised < 0 ? streams.get(streamId) : null;
      // trailers: a block after the final response goes into the response's own fields
      boolean trailers = existing != null && direction != existing.requestDirection && existing.response != null;
      Fields fields = trailers ? existing.response : new Fields(keptNames);
      fields.trailers = trailers;
      long unknownBefore = hpack.unknownFields();
      if (!hpack.decode(block, 0, blockFill, fields)) {
        stats.parseErrors.increment();
        return;
      }
      long unknown = hpack.unknownFields() - unknownBefore;
      if (unknown > 0) {
        stats.hpackDesync.add(unknown);
      }
      if (trailers) {
        fields.trailers = false;
        if ((blockFlags & FrameReader.FLAG_END_STREAM) != 0) {
          existing.responseEnded = true;
          existing.responseEndNanos = timestampNanos;
          finish(existing, timestampNanos, false);
        }
        return;
      }
      if (promised >= 0) {
        // server push: the promised request, on the stream the server will answer on
        request(promised, fields, other(this).direction, blockStartNanos, timestampNanos, true);
        return;
      }
      boolean endStream = (blockFlags & FrameReader.FLAG_END_STREAM) != 0;
      Stream stream = existing;
      if (stream == null) {
        if (fields.status == null) {
          // a new stream's request (request() counts one whose :method or :path is unknown)
          request(streamId, fields, direction, blockStartNanos, timestampNanos, endStream);
        }
        // else an answer to a request not seen (met late, or its block was lost)
        return;
      }
      if (direction == stream.requestDirection) {
        // a second block from the requesting side: the request's trailers
        stream.requestTrailers = true;
        if (endStream) {
          endRequest(stream, timestampNanos);
        }
        return;
      }
      response(stream, fields, timestampNanos, endStream);
    }

    @Override
    public void data(int streamId, int flags, byte[] bytes, int offset, int captured, long count, boolean first,
        boolean last, long timestampNanos) {
      Stream stream = streams.get(streamId);
      if (stream == null) {
        return;
      }
      stream.lastNanos = timestampNanos;
      boolean request = direction == stream.requestDirection;
      Body body = request ? stream.requestBody : stream.responseBody;
      int skip = 0;
      if (first && (flags & FrameReader.FLAG_PADDED) != 0) {
        if (captured > 0) {
          body.padding = bytes[offset] & 0xff;
          skip = 1;
        } else {
          body.padding = -1; // unknown: the length counts it
        }
        body.bytes -= 1;
      }
      body.bytes += count;
      if (last && body.padding > 0) {
        body.bytes -= body.padding;
        body.padding = 0;
      }
      if (bodyCaptureBytes > 0 && captured > skip) {
        body.keep(bytes, offset + skip, captured - skip, bodyCaptureBytes);
      } else if (bodyCaptureBytes > 0 && count > 0 && captured == 0) {
        body.cut = true;
      }
      if (last && (flags & FrameReader.FLAG_END_STREAM) != 0) {
        if (request) {
          endRequest(stream, timestampNanos);
        } else {
          stream.responseEndNanos = timestampNanos;
          stream.responseEnded = true;
          finish(stream, timestampNanos, false);
        }
      }
    }

    @Override
    public void malformed(int type, int code, long timestampNanos) {
      stats.parseErrors.increment();
      if (type == FrameReader.HEADERS || type == FrameReader.PUSH_PROMISE || type == FrameReader.CONTINUATION) {
        // a header block the peer rejects: whether the sender's table took it is unknown
        hpack.desync();
        blockStream = -1;
      }
    }

    @Override
    public void lost(long timestampNanos) {
      stats.resyncs.increment();
      hpack.desync();
      blockStream = -1;
    }
  }

  private void request(int streamId, Fields fields, Direction direction, long startNanos, long headNanos, boolean ended) {
    if (fields.method == null || fields.path == null) {
      stats.http2UnknownMessages.increment();
      return;
    }
    if (requestDirection == null) {
      requestDirection = direction;
      context.learnRole(direction == Direction.EGRESS ? Role.CLIENT : Role.SERVER);
    }
    Stream stream = new Stream(streamId, direction, bodies);
    stream.order = opened++;
    stream.request = fields;
    stream.requestStartNanos = startNanos;
    stream.requestHeadNanos = headNanos;
    stream.tid = context.lastTid(direction);
    stream.lastNanos = headNanos;
    Stream old = streams.put(streamId, stream);
    if (old != null) {
      finish(old, headNanos, true);
    }
    stats.requests.increment();
    if (streams.size() > MAX_STREAMS) {
      Stream expired = streams.least(s -> s.order);
      streams.remove(expired.id);
      releaseBodies(expired);
      stats.http2Expired.increment();
    }
    if (ended) {
      endRequest(stream, headNanos);
    }
  }

  private void endRequest(Stream stream, long timestampNanos) {
    if (stream.requestEnded) {
      return;
    }
    stream.requestEnded = true;
    stream.requestEndNanos = timestampNanos;
    context.request("2.0", requestOf(stream));
    if (stream.responseEnded) {
      finish(stream, timestampNanos, false);
    }
  }

  private void response(Stream stream, Fields fields, long timestampNanos, boolean ended) {
    if (fields.status == null) {
      // no final response yet (trailers go into it): its :status was not known
      stats.http2UnknownMessages.increment();
      stream.responseUnknown = true;
      if (ended) {
        finish(stream, timestampNanos, false);
      }
      return;
    }
    int status = parseStatus(fields.status);
    if (status < 0) {
      stats.parseErrors.increment();
      return;
    }
    if (status >= 100 && status < 200) {
      return; // informational: the final response follows
    }
    stats.responses.increment();
    stream.response = fields;
    stream.statusCode = status;
    stream.responseStartNanos = timestampNanos;
    stream.responseHeadNanos = timestampNanos;
    stream.responseEndNanos = timestampNanos;
    if (ended) {
      stream.responseEnded = true;
      finish(stream, timestampNanos, false);
    }
  }

  /** The stream is over: report its exchange (when the request is known), and forget it. */
  private void finish(Stream stream, long timestampNanos, boolean connectionEnd) {
    if (streams.get(stream.id) == stream) {
      streams.remove(stream.id);
    }
    try {
      report(stream, timestampNanos, connectionEnd);
    } finally {
      releaseBodies(stream);
    }
  }

  /** Its body prefixes, copied into what was reported, go back to the pipeline's budget. */
  private static void releaseBodies(Stream stream) {
    stream.requestBody.prefix.release();
    stream.responseBody.prefix.release();
  }

  /** The streams left (reported or forgotten without report) are dropped, their body prefixes given back. */
  private void releaseAllBodies() {
    for (Stream stream : streams.values()) {
      releaseBodies(stream);
    }
    streams.clear();
  }

  private void report(Stream stream, long timestampNanos, boolean connectionEnd) {
    if (stream.reported) {
      return;
    }
    stream.reported = true;
    if (stream.responseUnknown) {
      return;
    }
    Request request = requestOf(stream);
    if (stream.reset && !stream.responseEnded) {
      // the call lasted until its reset (a span without response ends where its request does)
      StreamRequest built = (StreamRequest) request;
      Request.Simple v = built.values();
      request = new StreamRequest(built.streamId(), new Request.Simple(v.method(), v.target(), v.authority(), v.userAgent(),
          v.headers(), v.declaredLength(), v.bodyBytes(), v.hasBody(), v.bodyPrefix(), v.bodyPrefixCut(), v.startNanos(),
          v.headNanos(), Math.max(v.endNanos(), timestampNanos), v.truncated()), stream.resetCode);
    }
    Response response = stream.response == null ? null : responseOf(stream, connectionEnd || stream.reset);
    if (response == null) {
      stats.unanswered.increment();
    } else {
      stats.exchanges.increment();
      if (context.connection().role() == Role.SERVER) {
        stats.serverExchanges.increment();
      } else {
        stats.clientExchanges.increment();
      }
    }
    context.exchange(new Exchange(context.connection(), stream.tid, "HTTP", "2.0", stream.id, request, response,
        context.ids(request)));
  }

  private Request requestOf(Stream stream) {
    if (stream.builtRequest != null) {
      return stream.builtRequest;
    }
    Fields f = stream.request;
    Body body = stream.requestBody;
    long end = stream.requestEnded ? stream.requestEndNanos : stream.lastNanos;
    stream.builtRequest = new StreamRequest(stream.id, new Request.Simple(f.method, f.path, f.authority, f.userAgent,
        f.headers(), f.contentLength, Math.max(0, body.bytes), body.bytes > 0, body.prefix.bytes(), body.cut || body.tooLong,
        stream.requestStartNanos, stream.requestHeadNanos, Math.max(end, stream.requestHeadNanos),
        !stream.requestEnded), -1);
    return stream.builtRequest;
  }

  private Response responseOf(Stream stream, boolean cut) {
    Fields f = stream.response;
    Body body = stream.responseBody;
    Headers headers = f.headers();
    return new Response.Simple(stream.statusCode, "", "2.0", headers, f.contentLength, Math.max(0, body.bytes),
        body.bytes > 0, body.prefix.bytes(), body.cut || body.tooLong, stream.responseStartNanos, stream.responseHeadNanos,
        Math.max(stream.responseEndNanos, stream.responseHeadNanos), cut && !stream.responseEnded);
  }

  private static int parseStatus(String status) {
    if (status.length() != 3) {
      return -1;
    }
    int value = 0;
    for (int i = 0; i < 3; i++) {
      char c = status.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      value = value * 10 + (c - '0');
    }
    return value >= 100 ? value : -1;
  }

  /** A stream's request and response as far as seen. */
  private static final class Stream {
    final int id;
    final Direction requestDirection;
    int tid;
    Fields request;
    Fields response;
    boolean requestTrailers;
    int statusCode;
    final Body requestBody;
    final Body responseBody;
    long requestStartNanos;
    long requestHeadNanos;
    long requestEndNanos;
    long responseStartNanos;
    long responseHeadNanos;
    long responseEndNanos;
    long lastNanos;
    boolean requestEnded;
    boolean responseEnded;
    boolean responseUnknown;
    boolean reset;
    int resetCode = -1;
    boolean reported;
    Request builtRequest;

    /** When it opened among the connection's streams. */
    long order;

    Stream(int id, Direction requestDirection, BodyBudget bodies) {
      this.id = id;
      this.requestDirection = requestDirection;
      this.requestBody = new Body(bodies);
      this.responseBody = new Body(bodies);
    }
  }

  /** A message body: counted, its first bytes kept when asked. */
  private static final class Body {
    long bytes;
    int padding;
    final BodyPrefix prefix;
    boolean cut;
    boolean tooLong;

    Body(BodyBudget budget) {
      prefix = new BodyPrefix(budget);
    }

    /** Keeps what the limit and the budget leave room for (the prefix takes its room from the budget). */
    void keep(byte[] data, int offset, int count, int limit) {
      if (prefix.keep(data, offset, count, limit) < count) {
        tooLong = true;
      }
    }
  }

  /** One header block's fields: the pseudo-headers and the ones the product keeps. */
  static final class Fields implements HpackDecoder.FieldSink {
    /** Kept of every message: what tells a gRPC call, its deadline, status and message. */
    static final java.util.Set<String> GRPC_FIELDS = java.util.Set.of("content-type", "grpc-status", "grpc-message", "grpc-timeout");

    /** Names kept (HTTP/2 names are lower case: RFC 9113 section 8.2.1), or null for all. */
    private final java.util.Set<String> keptNames;
    private String[] names;
    private String[] values;
    private int size;
    /** Decoding trailers into the response's fields: pseudo-header fields are not taken. */
    boolean trailers;
    String method;
    String path;
    String authority;
    String scheme;
    String status;
    String userAgent;
    long contentLength = -1;
    boolean unknownPseudo;
    boolean unknown;

    Fields(java.util.Set<String> keptNames) {
      this.keptNames = keptNames;
    }

    @Override
    public void field(String name, String value) {
      if (name == null) {
        // a field the table could not give: it may have been any of them
        unknown = true;
        unknownPseudo |= !trailers;
        return;
      }
      if (name.startsWith(":")) {
        if (trailers) {
          return; // malformed in trailers (RFC 9113 8.1); the response's own stay
        }
        switch (name) {
          case ":method" -> method = value;
          case ":path" -> path = value;
          case ":authority" -> authority = value;
          case ":scheme" -> scheme = value;
          case ":status" -> status = value;
          default -> {}
        }
        return;
      }
      // a name with upper case is malformed in HTTP/2 (RFC 9113 8.2.1): it matches nothing here
      switch (name) {
        case "user-agent" -> userAgent = value;
        case "content-length" -> {
          try {
            contentLength = Long.parseLong(value.strip());
          } catch (NumberFormatException e) {
            contentLength = -1;
          }
        }
        case "host" -> {
          if (authority == null) {
            authority = value;
          }
        }
        default -> {}
      }
      if ((keptNames == null || keptNames.contains(name)) && size < Headers.MAX_FIELDS) {
        if (names == null) {
          names = new String[8];
          values = new String[8];
        } else if (size == names.length) {
          names = Arrays.copyOf(names, size * 2);
          values = Arrays.copyOf(values, size * 2);
        }
        names[size] = name;
        values[size] = value;
        size++;
      }
    }

    /** The kept fields; the arrays pass to the headers, so fields added later start new ones. */
    Headers headers() {
      Headers headers = Headers.wrap(names, values, size);
      names = null;
      values = null;
      size = 0;
      return headers;
    }
  }
}
