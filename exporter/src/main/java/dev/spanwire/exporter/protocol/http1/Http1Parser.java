package dev.spanwire.exporter.protocol.http1;

import static dev.spanwire.exporter.protocol.http1.Http1State.*;
import static dev.spanwire.exporter.protocol.http1.Http1Syntax.*;

import dev.spanwire.exporter.protocol.BodyBudget;
import dev.spanwire.exporter.protocol.BodyPrefix;
import dev.spanwire.exporter.protocol.HeaderSelection;
import dev.spanwire.exporter.protocol.http1.HttpMessage.Framing;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Incremental HTTP/1.0 and 1.1 parser for one direction of one connection. Bytes arrive in any
 * chunking through {@link #feed}; bytes that moved but were not captured arrive as
 * {@link #skip} (a body is skipped by count, without its bytes), lost bytes as {@link #gap}.
 *
 * <p>Strict where framing depends on it, as llhttp is in its strict mode: CRLF line endings, token
 * characters in methods and header names, one Content-Length of digits only, never together with
 * Transfer-Encoding, {@code chunked} last in a request's Transfer-Encoding, a well-formed chunk
 * grammar. A malformed message is reported through {@link Listener#onError} and dropped; the parser
 * then resynchronises at the start of a later captured chunk that begins with a start line.
 *
 * <p>Memory is bounded: the header block may hold at most {@code maxHeadBytes}, kept values at
 * most {@value #MAX_VALUE_BYTES} bytes each. Not thread-safe: one pipeline thread feeds it.
 */
public final class Http1Parser {
  /** Which messages the stream carries. */
  public enum Mode {
    REQUESTS,
    RESPONSES,
    /** Decided by each message's first token: a protocol ({@code HTTP/}) or a method. */
    EITHER
  }

  /** What follows a response head, as only the request it answers can tell. */
  public enum HeadAction {
    /** Framing from the response itself. */
    BODY,
    /** No body whatever the headers say (response to HEAD). */
    NO_BODY,
    /** The connection switches protocols after this head (101, CONNECT 2xx). */
    UPGRADE
  }

  /** Receives the parser's results on the feeding thread. */
  public interface Listener {
    /** A request head is complete; the default lets its headers frame the body. */
    default HeadAction onRequestHead(String method) {
      return HeadAction.BODY;
    }

    /** A response head is complete; the default lets its headers frame the body. */
    default HeadAction onResponseHead(int statusCode) {
      return HeadAction.BODY;
    }

    /** A complete message (or one cut short by close or lost capture, marked truncated). */
    void onMessage(HttpMessage message);

    /** The stream is malformed; the message under way is dropped and the parser resyncs. */
    default void onError(Http1Error error) {}

    /** The stream left HTTP/1 after the last message (upgrade or tunnel). */
    default void onUpgrade() {}

    /**
     * The parser lost its place in the stream at {@code timestampNanos}: after a malformed message,
     * bytes that moved uncaptured past a message's end, or bytes lost in the kernel. The messages
     * those bytes held (none, one or several) are unknown; parsing resumes at a later captured
     * chunk that begins with a start line. A message under way was reported (marked truncated)
     * or dropped before this call.
     */
    default void onLost(long timestampNanos) {}

    /**
     * The bytes before stream position {@code end} are body the parser frames by length and
     * no longer keeps (its body prefix is full): the capture need not copy them.
     */
    default void onBodyAhead(long end) {}
  }

  /** A body stretch shorter than this is not worth telling the capture about. */
  static final long SKIP_HINT_MIN_BYTES = 16 * 1024;

  /** Default bound on a header block. */
  public static final int DEFAULT_MAX_HEAD_BYTES = 64 * 1024;
  /** Bound on a kept value (target, Host, User-Agent, ...); longer ones are cut. */
  static final int MAX_VALUE_BYTES = 8 * 1024;
  /** The token buffer's first size: a request line's target or a header value rarely needs more. */
  private static final int INITIAL_TOKEN_BYTES = 256;
  private static final int MAX_NAME_BYTES = 256;

  // framing header ids (kept fields have ids from KeptHeaders.FIRST_KEPT on, from the selection)
  private static final int H_OTHER = 0;
  private static final int H_CONTENT_LENGTH = 1;
  private static final int H_TRANSFER_ENCODING = 2;
  private static final int H_CONNECTION = 3;
  private static final int H_UPGRADE = 4;

  private Mode mode;
  private final Listener listener;
  private final KeptHeaders kept;
  private final int bodyCaptureBytes;
  private final int maxHeadBytes;

  private Http1State state = START;
  /** Set by the stream's first message in EITHER mode. */
  private boolean parsingRequest;

  // message under way
  private long startPosition;
  private long startNanos;
  private long headNanos;
  private int headBytes;
  /** Grows to {@link #MAX_VALUE_BYTES} as long values come: most connections never need it. */
  private byte[] token = new byte[INITIAL_TOKEN_BYTES];
  private int tokenLength;
  private boolean tokenOverflow;
  private final byte[] name = new byte[MAX_NAME_BYTES];
  private int nameLength;
  private int headerId;
  private String method;
  private String target;
  private String protocol;
  private int versionMajor;
  private int versionMinor;
  private int statusCode;
  private int statusDigits;
  private String statusText;
  private int headerCount;
  private long contentLength;
  /** The body end last given to {@link Listener#onBodyAhead}. */
  private long hintedEnd = -1;
  private boolean hasContentLength;
  private boolean hasTransferEncoding;
  private boolean chunkedLast;
  private boolean connectionClose;
  private boolean connectionKeepAlive;
  private boolean connectionUpgrade;
  private boolean hasUpgrade;
  /** This message's Upgrade header names h2c (HTTP/2 over cleartext, RFC 7540 section 3.2). */
  private boolean upgradeH2c;
  /** The last complete message's {@link #upgradeH2c}. */
  private boolean lastUpgradeH2c;

  private Framing framing;
  private long bodyRemaining;
  private long bodyBytes;
  /** The body's first bytes, when body capture is on. */
  private final BodyBudget bodies;
  /**
   * Budget bytes the body prefixes of complete requests still hold (see {@link
   * #takeRequestBodyBudget}); given back here only if nobody took them when the connection ends.
   */
  private int heldRequestBudget;
  private final BodyPrefix body;
  private boolean bodyTruncated;
  private boolean truncated;
  private boolean upgradeAfterMessage;
  private boolean sawChunkDigit;
  /** Time of the last bytes fed or skipped: errors and close-delimited ends are stamped with it. */
  private long lastNanos;

  /**
   * @param mode which messages the stream carries
   * @param listener receives messages and errors
   * @param headers the header fields kept on messages (the product's, watched ones, or all)
   * @param bodyCaptureBytes keep up to this many body bytes per message (0: none)
   * @param maxHeadBytes bound on a header block
   */
  public Http1Parser(
      Mode mode, Listener listener, HeaderSelection headers, int bodyCaptureBytes, int maxHeadBytes) {
    this(mode, listener, headers, bodyCaptureBytes, maxHeadBytes, new BodyBudget(Long.MAX_VALUE));
  }

  /** @param bodies the heap body prefixes under capture may hold, shared with the pipeline's other parsers */
  public Http1Parser(
      Mode mode, Listener listener, HeaderSelection headers, int bodyCaptureBytes, int maxHeadBytes, BodyBudget bodies) {
    this.mode = mode;
    this.listener = listener;
    this.kept = new KeptHeaders(headers);
    this.bodyCaptureBytes = bodyCaptureBytes;
    this.maxHeadBytes = maxHeadBytes;
    this.parsingRequest = mode == Mode.REQUESTS;
    this.body = new BodyPrefix(bodies);
    this.bodies = bodies;
  }

  public Http1Parser(Mode mode, Listener listener) {
    this(mode, listener, HeaderSelection.product(), 0, DEFAULT_MAX_HEAD_BYTES);
  }

  /**
   * Which messages the stream carries from the next message on (the message under way keeps its
   * kind): a connection learns its request direction from its first message.
   */
  public void setMode(Mode mode) {
    this.mode = mode;
  }

  /** Whether the stream has left HTTP/1 (after a 101, an accepted CONNECT, the HTTP/2 preface). */
  public boolean isUpgraded() {
    return state == UPGRADED;
  }

  /** Whether the parser waits for a start line after an error or lost bytes. */
  public boolean isResyncing() {
    return state == RESYNC;
  }

  /** Whether a request that asked to switch protocols (or CONNECT) awaits its response. */
  /** Whether the last complete message's Upgrade header was {@code h2c}. */
  public boolean lastUpgradeH2c() {
    return lastUpgradeH2c;
  }

  public boolean isUpgradePending() {
    return state == UPGRADE_PENDING;
  }

  /** Whether no message is under way. */
  public boolean isIdle() {
    return state == START || state == RESYNC || state == CLOSED || state == UPGRADED || state == UPGRADE_PENDING;
  }

  /**
   * Captured bytes {@code data[offset, offset + length)} at stream {@code position}, moved by a
   * syscall at {@code timestampNanos}. Returns how many were HTTP/1: fewer when the stream left
   * HTTP/1 inside them (the rest belong to the protocol it switched to).
   */
  public int feed(byte[] data, int offset, int length, long position, long timestampNanos) {
    lastNanos = timestampNanos;
    int end = offset + length;
    int i = offset;
    if (state == RESYNC) {
      if (!startsMessage(data, offset, length)) {
        return length;
      }
      state = START;
    }
    while (i < end) {
      switch (state) {
        case BODY_LENGTH -> {
          int n = (int) Math.min(bodyRemaining, end - i);
          captureBody(data, i, n);
          bodyAhead(bodyRemaining - n, position + (i - offset) + bodyRemaining);
          bodyRemaining -= n;
          i += n;
          if (bodyRemaining == 0) {
            completeMessage(timestampNanos);
          }
        }
        case CHUNK_DATA -> {
          int n = (int) Math.min(bodyRemaining, end - i);
          captureBody(data, i, n);
          bodyAhead(bodyRemaining - n, position + (i - offset) + bodyRemaining);
          bodyRemaining -= n;
          i += n;
          if (bodyRemaining == 0) {
            state = CHUNK_DATA_CR;
          }
        }
        case BODY_UNTIL_CLOSE -> {
          int n = end - i;
          captureBody(data, i, n);
          i = end;
        }
        case START -> {
          int line = startLine(data, i, end, position + (i - offset), timestampNanos);
          if (line > 0) {
            i += line;
          } else {
            if (!step(data[i] & 0xff, position + (i - offset), timestampNanos)) {
              return length;
            }
            i++;
          }
        }
        case UPGRADED, UPGRADE_PENDING, RESYNC -> {
          // after an upgrade the rest is the next protocol's; while resyncing it is discarded
          return state == RESYNC ? length : i - offset;
        }
        case TARGET, HEADER_NAME, HEADER_VALUE, REASON -> {
          // runs of ordinary bytes go in bulk, never past the head's bound; the byte that ends a
          // run goes through step() (which refuses a byte past the bound)
          int run = scan(data, i, (int) Math.min(end, i + (long) (maxHeadBytes - headBytes)));
          if (state == RESYNC) {
            return length; // an error inside the run
          }
          if (run > 0) {
            headBytes += run;
            i += run;
          } else {
            if (!step(data[i] & 0xff, position + (i - offset), timestampNanos)) {
              return length;
            }
            i++;
          }
        }
        default -> {
          if (!step(data[i] & 0xff, position + (i - offset), timestampNanos)) {
            return length;
          }
          i++;
        }
      }
    }
    return length;
  }

  /** Bytes that moved at {@code position} but were not captured (a capture cut short). */
  public void skip(long count, long position, long timestampNanos) {
    if (count <= 0) {
      return;
    }
    lastNanos = timestampNanos;
    switch (state) {
      case BODY_LENGTH -> {
        bodyTruncated |= body.length() < bodyCaptureBytes;
        if (count < bodyRemaining) {
          bodyAhead(bodyRemaining - count, position + bodyRemaining);
          bodyBytes += count;
          bodyRemaining -= count;
        } else {
          // the rest belongs to later messages that cannot be seen
          bodyBytes += bodyRemaining;
          boolean beyond = count > bodyRemaining;
          bodyRemaining = 0;
          completeMessage(timestampNanos);
          if (beyond && state != UPGRADED && state != UPGRADE_PENDING) {
            lose(timestampNanos);
          }
        }
      }
      case CHUNK_DATA -> {
        bodyTruncated |= body.length() < bodyCaptureBytes;
        if (count <= bodyRemaining) {
          bodyAhead(bodyRemaining - count, position + bodyRemaining);
          bodyBytes += count;
          bodyRemaining -= count;
          if (bodyRemaining == 0) {
            state = CHUNK_DATA_CR;
          }
        } else {
          bodyBytes += bodyRemaining;
          endsWithLastChunk(count - bodyRemaining, timestampNanos);
        }
      }
      case CHUNK_DATA_CR, CHUNK_DATA_LF, CHUNK_SIZE_START -> endsWithLastChunk(count, timestampNanos);
      case BODY_UNTIL_CLOSE -> {
        bodyTruncated |= body.length() < bodyCaptureBytes;
        bodyBytes += count;
      }
      case START, CLOSED, UPGRADED, UPGRADE_PENDING, RESYNC -> {
        if (state == START || state == CLOSED) {
          lose(timestampNanos); // the uncaptured bytes may hold whole messages
        }
      }
      default -> {
        if (inHead()) {
          // the rest of the header block is unknown: keep what was seen, then resync
          truncated = true;
          if (headComplete(timestampNanos, true)) {
            completeMessage(timestampNanos);
          }
          if (state != UPGRADE_PENDING && state != UPGRADED) {
            lose(timestampNanos);
          }
        } else {
          framingLost(timestampNanos);
        }
      }
    }
  }

  /** Bytes lost at {@code position} (events lost): whatever was under way is cut there. */
  public void gap(long count, long position, long timestampNanos) {
    if (state == UPGRADED) {
      return;
    }
    if (state == BODY_UNTIL_CLOSE || (!inHead() && !isIdle())) {
      framingLost(timestampNanos);
      return;
    }
    lose(timestampNanos);
  }

  /** The connection closed: a body delimited by close ends here; anything else under way is cut. */
  public void close(long timestampNanos) {
    switch (state) {
      // the body ended with its last byte; a lingering close() may come much later
      case BODY_UNTIL_CLOSE -> completeMessage(lastNanos);
      case START, CLOSED, RESYNC, UPGRADED, UPGRADE_PENDING -> {}
      default -> {
        if (inHead()) {
          if (headBytes > 0) {
            listener.onError(Http1Error.INCOMPLETE);
          }
        } else {
          truncated = true;
          completeMessage(timestampNanos);
        }
      }
    }
    reset();
    state = RESYNC;
  }

  /**
   * Capture stops (the agent shuts down) while the connection goes on: a message under way is
   * reported as far as it was seen, marked truncated; a head not yet complete is dropped.
   */
  public void cut() {
    switch (state) {
      case START, CLOSED, RESYNC, UPGRADED, UPGRADE_PENDING -> {}
      default -> {
        if (!inHead()) {
          truncated = true;
          bodyTruncated |= bodyCaptureBytes > 0;
          completeMessage(lastNanos);
        }
      }
    }
    reset();
    state = RESYNC;
  }

  /** The request that asked to switch protocols was refused: parse HTTP/1 again. */
  public void resume() {
    if (state == UPGRADE_PENDING) {
      state = START;
    }
  }

  /** The stream switched protocols: stop parsing it. */
  public void upgrade() {
    if (state != UPGRADED) {
      state = UPGRADED;
      listener.onUpgrade();
    }
  }

  private boolean inHead() {
    return state.inHead;
  }

  /**
   * A start line of the usual shape read in one pass, with the first byte of the header name after
   * it: {@code METHOD SP target SP HTTP/1.x CRLF} or {@code HTTP/1.x SP ddd [SP reason] CRLF}, all
   * of it in {@code data[from, end)}. Returns the bytes consumed, or 0 when the line is anything
   * else (another version, lower-case or unknown method, odd bytes, not all there): then
   * {@link #step} reads it byte by byte, errors included, exactly as if this had not looked.
   */
  private int startLine(byte[] data, int from, int end, long position, long timestampNanos) {
    if (end - from < 16) {
      return 0;
    }
    long first = (long) LONGS.get(data, from);
    boolean response = first == HTTP_11_WORD || first == HTTP_10_WORD;
    int i;
    if (response) {
      if (mode == Mode.REQUESTS || data[from + 8] != ' ') {
        return 0;
      }
      int d0 = data[from + 9] - '0';
      int d1 = data[from + 10] - '0';
      int d2 = data[from + 11] - '0';
      if ((d0 | d1 | d2) < 0 || d0 > 9 || d1 > 9 || d2 > 9) {
        return 0;
      }
      i = from + 12;
      int reasonStart = i + 1;
      if (data[i] == ' ') {
        i = valueEnd(data, reasonStart, end);
        if (i - reasonStart > INITIAL_TOKEN_BYTES) {
          return 0;
        }
      }
      if (i + 2 >= end || data[i] != '\r' || data[i + 1] != '\n' || !TOKEN[data[i + 2] & 0xff]) {
        return 0;
      }
      beginMessage(position, timestampNanos);
      parsingRequest = false;
      protocol = "HTTP";
      versionMajor = 1;
      versionMinor = first == HTTP_11_WORD ? 1 : 0;
      statusCode = d0 * 100 + d1 * 10 + d2;
      statusDigits = 3;
      if (i == from + 12) {
        statusText = "";
      } else {
        appendBulk(data, reasonStart, i - reasonStart);
        statusText = reasonPhrase();
        tokenLength = 0;
      }
    } else {
      if (mode == Mode.RESPONSES) {
        return 0;
      }
      i = from;
      while (i < end && i - from < 16 && data[i] >= 'A' && data[i] <= 'Z') {
        i++;
      }
      int methodEnd = i;
      if (methodEnd == from || i >= end || data[i] != ' ') {
        return 0;
      }
      int targetStart = i + 1;
      int targetEnd = targetEnd(data, targetStart, end);
      i = targetEnd;
      if (targetEnd == targetStart || targetEnd - targetStart > MAX_VALUE_BYTES || i + 11 >= end || data[i] != ' ') {
        return 0;
      }
      long version = (long) LONGS.get(data, i + 1);
      if ((version != HTTP_11_WORD && version != HTTP_10_WORD)
          || data[i + 9] != '\r' || data[i + 10] != '\n' || !TOKEN[data[i + 11] & 0xff]) {
        return 0;
      }
      beginMessage(position, timestampNanos);
      appendBulk(data, from, methodEnd - from);
      int known = methodIndex();
      tokenLength = 0;
      if (known < 0 || !HTTP_METHOD[known]) {
        reset();
        return 0;
      }
      protocol = "HTTP";
      method = METHODS[known];
      parsingRequest = true;
      target = text(data, targetStart, targetEnd - targetStart);
      versionMajor = 1;
      versionMinor = version == HTTP_11_WORD ? 1 : 0;
      i += 9;
    }
    // the line's CRLF and the first header name's first byte
    int consumed = i + 3 - from;
    if (consumed > maxHeadBytes) {
      reset();
      return 0;
    }
    headBytes = consumed;
    name[0] = data[i + 2];
    nameLength = 1;
    state = HEADER_NAME;
    return consumed;
  }

  /**
   * Consumes the ordinary bytes of a target, header name, header value or reason phrase starting
   * at {@code from}, keeping them only where they are needed; returns how many.
   */
  private int scan(byte[] data, int from, int end) {
    int i = from;
    switch (state) {
      case TARGET -> {
        i = targetEnd(data, from, end);
        appendBulk(data, from, i - from);
      }
      case HEADER_NAME, HEADER_VALUE -> {
        return headerLines(data, from, end);
      }
      default -> { // REASON
        i = valueEnd(data, from, end);
        appendBulk(data, from, i - from);
      }
    }
    return i - from;
  }

  /**
   * Ordinary header lines in one pass: name, colon, optional whitespace, value, CRLF, and on into
   * the next name. Stops at anything else (the head's end, an error, the chunk's end) and leaves
   * that byte to {@link #step}; returns the bytes consumed.
   */
  private int headerLines(byte[] data, int from, int end) {
    int i = from;
    while (i < end) {
      if (state == HEADER_NAME) {
        int start = i;
        while (i < end && TOKEN[data[i] & 0xff]) {
          i++;
        }
        int n = Math.min(i - start, MAX_NAME_BYTES - Math.min(nameLength, MAX_NAME_BYTES));
        System.arraycopy(data, start, name, Math.min(nameLength, MAX_NAME_BYTES), n);
        nameLength += i - start;
        if (i + 1 >= end || data[i] != ':') {
          return i - from;
        }
        // the colon, then whitespace
        if (!nameComplete()) {
          return i - from;
        }
        i++;
        while (i < end && (data[i] == ' ' || data[i] == '\t')) {
          i++;
        }
        state = HEADER_VALUE_START;
        if (i >= end || headerId == H_CONTENT_LENGTH) {
          return i - from;
        }
        state = HEADER_VALUE;
      }
      // HEADER_VALUE
      if (headerId == H_CONTENT_LENGTH) {
        return i - from; // checked byte by byte in step()
      }
      int start = i;
      i = valueEnd(data, i, end);
      if (headerId != H_OTHER || kept.all()) {
        appendBulk(data, start, i - start); // only values someone reads are copied
      }
      // CRLF and a name's first byte: the line is done and the next begins
      if (i + 2 < end && data[i] == '\r' && data[i + 1] == '\n' && TOKEN[data[i + 2] & 0xff]) {
        if (!endHeader()) {
          return i - from;
        }
        name[0] = data[i + 2];
        nameLength = 1;
        state = HEADER_NAME;
        i += 3;
      } else {
        return i - from;
      }
    }
    return i - from;
  }

  /**
   * A header name is complete (its colon was read): identify it and check Content-Length against
   * Transfer-Encoding. False after reporting an error.
   */
  private boolean nameComplete() {
    headerId = headerId();
    headerCount++;
    tokenLength = 0;
    tokenOverflow = false;
    if (headerId == H_CONTENT_LENGTH) {
      if (hasContentLength) {
        return fail(Http1Error.DUPLICATE_CONTENT_LENGTH);
      }
      if (hasTransferEncoding) {
        return fail(Http1Error.LENGTH_WITH_TRANSFER_ENCODING);
      }
    } else if (headerId == H_TRANSFER_ENCODING && hasContentLength) {
      return fail(Http1Error.LENGTH_WITH_TRANSFER_ENCODING);
    }
    return true;
  }

  private void growToken(int needed) {
    token = Arrays.copyOf(token, Math.min(MAX_VALUE_BYTES, Math.max(needed, token.length * 2)));
  }

  private void appendBulk(byte[] data, int from, int length) {
    int n = Math.min(length, MAX_VALUE_BYTES - tokenLength);
    if (tokenLength + n > token.length) {
      growToken(tokenLength + n);
    }
    System.arraycopy(data, from, token, tokenLength, n);
    tokenLength += n;
    if (n < length) {
      tokenOverflow = true;
    }
  }

  /** Whether a chunk after lost bytes starts like a message of this stream. */
  private boolean startsMessage(byte[] data, int offset, int length) {
    return startsMessage(data, offset, length, mode);
  }

  /** Whether the bytes begin a message of a stream in {@code mode}: {@code HTTP/} or a method and a space. */
  static boolean startsMessage(byte[] data, int offset, int length, Mode mode) {
    int n = Math.min(length, 16); // the longest method, GET_PARAMETER, and its space
    if (n < 4) {
      return false;
    }
    boolean response = data[offset] == 'H' && data[offset + 1] == 'T' && data[offset + 2] == 'T' && data[offset + 3] == 'P';
    if (response && (n < 5 || data[offset + 4] == '/')) {
      return mode != Mode.REQUESTS;
    }
    if (mode == Mode.RESPONSES) {
      return false;
    }
    // an upper-case method and a space
    for (int i = 0; i < n; i++) {
      int c = data[offset + i];
      if (c == ' ') {
        return i >= 3;
      }
      if (!((c >= 'A' && c <= 'Z') || c == '-' || c == '_')) {
        return false;
      }
    }
    return false;
  }

  /** One byte of a start line, header block, chunk framing or trailer; false stops the chunk. */
  private boolean step(int c, long position, long timestampNanos) {
    if (inHead() && ++headBytes > maxHeadBytes) {
      return fail(Http1Error.HEAD_TOO_LARGE);
    }
    switch (state) {
      case START -> {
        if (c == '\r' || c == '\n') {
          return true; // empty lines between messages
        }
        beginMessage(position, timestampNanos);
        state = FIRST_TOKEN;
        return step(c, position, timestampNanos);
      }
      case CLOSED -> {
        if (c == '\r' || c == '\n') {
          return true;
        }
        return fail(Http1Error.DATA_AFTER_CLOSE);
      }
      case FIRST_TOKEN -> {
        if (TOKEN[c]) {
          return append(c);
        }
        if (c == ' ' && mode != Mode.RESPONSES) {
          parsingRequest = true;
          method = methodName();
          if (method == null) {
            return fail(Http1Error.INVALID_METHOD);
          }
          tokenLength = 0;
          state = TARGET_START;
          return true;
        }
        if (c == '/' && mode != Mode.REQUESTS) {
          parsingRequest = false;
          protocol = protocolName();
          if (protocol == null) {
            return fail(Http1Error.INVALID_START_LINE);
          }
          tokenLength = 0;
          state = VERSION_MAJOR;
          return true;
        }
        return fail(mode == Mode.RESPONSES ? Http1Error.INVALID_START_LINE : Http1Error.INVALID_METHOD);
      }
      case TARGET_START -> {
        if (!TARGET_CHAR[c]) {
          return fail(Http1Error.INVALID_TARGET);
        }
        state = TARGET;
        return append(c);
      }
      case TARGET -> {
        if (c == '\r' && mode != Mode.RESPONSES) {
          // "GET /" and a line end: an HTTP/0.9 request, without headers
          target = tokenString();
          tokenLength = 0;
          state = REQUEST_09_LF;
          return true;
        }
        if (c == ' ') {
          target = tokenString();
          tokenLength = 0;
          tokenOverflow = false;
          state = PROTOCOL;
          return true;
        }
        if (!TARGET_CHAR[c]) {
          return fail(Http1Error.INVALID_TARGET);
        }
        return append(c);
      }
      case PROTOCOL -> {
        if (c == '/') {
          protocol = protocolName();
          if (protocol == null || !methodAllowed()) {
            return fail(protocol == null ? Http1Error.INVALID_VERSION : Http1Error.INVALID_METHOD);
          }
          tokenLength = 0;
          state = VERSION_MAJOR;
          return true;
        }
        if (c < 'A' || c > 'Z' || tokenLength >= 4) {
          return fail(Http1Error.INVALID_VERSION);
        }
        return append(c);
      }
      case VERSION_MAJOR -> {
        if (c < '0' || c > '9') {
          return fail(Http1Error.INVALID_VERSION);
        }
        versionMajor = c - '0';
        state = VERSION_DOT;
        return true;
      }
      case VERSION_DOT -> {
        if (c != '.') {
          return fail(Http1Error.INVALID_VERSION);
        }
        state = VERSION_MINOR;
        return true;
      }
      case VERSION_MINOR -> {
        if (c < '0' || c > '9') {
          return fail(Http1Error.INVALID_VERSION);
        }
        versionMinor = c - '0';
        if (!validVersion()) {
          return fail(Http1Error.INVALID_VERSION);
        }
        state = parsingRequest ? REQUEST_LINE_CR : STATUS_SPACE;
        return true;
      }
      case REQUEST_09_LF -> {
        if (c != '\n') {
          return fail(Http1Error.LINE_ENDING);
        }
        protocol = "HTTP";
        versionMajor = 0;
        versionMinor = 9;
        if (headComplete(timestampNanos, false)) {
          completeMessage(timestampNanos);
        }
        return true;
      }
      case REQUEST_LINE_CR -> {
        if (c != '\r') {
          return fail(Http1Error.LINE_ENDING);
        }
        state = REQUEST_LINE_LF;
        return true;
      }
      case REQUEST_LINE_LF, STATUS_LINE_LF -> {
        if (c != '\n') {
          return fail(Http1Error.LINE_ENDING);
        }
        state = HEADER_LINE_START;
        return true;
      }
      case STATUS_SPACE -> {
        if (c != ' ') {
          return fail(Http1Error.INVALID_START_LINE);
        }
        state = STATUS_CODE;
        return true;
      }
      case STATUS_CODE -> {
        if (c < '0' || c > '9') {
          return fail(Http1Error.INVALID_STATUS);
        }
        statusCode = statusCode * 10 + (c - '0');
        if (++statusDigits == 3) {
          state = STATUS_AFTER_CODE;
        }
        return true;
      }
      case STATUS_AFTER_CODE -> {
        if (c == ' ') {
          state = REASON;
          return true;
        }
        if (c == '\r') {
          statusText = "";
          state = STATUS_LINE_LF;
          return true;
        }
        return fail(Http1Error.INVALID_STATUS);
      }
      case REASON -> {
        if (c == '\r') {
          statusText = reasonPhrase();
          tokenLength = 0;
          tokenOverflow = false;
          state = STATUS_LINE_LF;
          return true;
        }
        if (!VALUE_CHAR[c]) {
          return fail(Http1Error.INVALID_START_LINE);
        }
        return append(c);
      }
      case HEADER_LINE_START -> {
        if (c == '\r') {
          state = HEAD_END_LF;
          return true;
        }
        if (c == ' ' || c == '\t') {
          // folding right after the start line has nothing to continue
          return fail(Http1Error.INVALID_HEADER_TOKEN);
        }
        return startHeaderName(c);
      }
      case HEADER_NAME -> {
        if (c == ':') {
          if (!nameComplete()) {
            return false;
          }
          state = HEADER_VALUE_START;
          return true;
        }
        if (!TOKEN[c]) {
          return fail(Http1Error.INVALID_HEADER_TOKEN);
        }
        if (nameLength < MAX_NAME_BYTES) {
          name[nameLength] = (byte) c;
        }
        nameLength++;
        return true;
      }
      case HEADER_VALUE_START -> {
        if (c == ' ' || c == '\t') {
          return true;
        }
        state = HEADER_VALUE;
        headBytes--; // the value's first byte: counted again by this call
        return step(c, position, timestampNanos);
      }
      case HEADER_VALUE -> {
        if (c == '\r') {
          state = HEADER_VALUE_LF;
          return true;
        }
        if (!VALUE_CHAR[c]) {
          return fail(c == '\n' ? Http1Error.LINE_ENDING : Http1Error.INVALID_HEADER_VALUE);
        }
        if (headerId == H_CONTENT_LENGTH && !contentLengthChar(c)) {
          return fail(Http1Error.INVALID_CONTENT_LENGTH);
        }
        return append(c);
      }
      case HEADER_VALUE_LF -> {
        if (c != '\n') {
          return fail(Http1Error.LINE_ENDING);
        }
        state = HEADER_LINE_AFTER_LF;
        return true;
      }
      case HEADER_LINE_AFTER_LF -> {
        if (c == ' ' || c == '\t') {
          // obsolete line folding (RFC 9112 5.2): refused, as by llhttp in strict mode
          return fail(Http1Error.INVALID_HEADER_VALUE);
        }
        if (!endHeader()) {
          return false;
        }
        if (c == '\r') {
          state = HEAD_END_LF;
          return true;
        }
        return startHeaderName(c);
      }
      case HEAD_END_LF -> {
        if (c != '\n') {
          return fail(Http1Error.LINE_ENDING);
        }
        if (headComplete(timestampNanos, false)) {
          completeMessage(timestampNanos);
        }
        return true;
      }
      case CHUNK_SIZE_START, CHUNK_SIZE -> {
        int digit = HEX[c];
        if (digit >= 0) {
          if (bodyRemaining > (Long.MAX_VALUE >> 4)) {
            return fail(Http1Error.INVALID_CHUNK);
          }
          bodyRemaining = (bodyRemaining << 4) | digit;
          state = CHUNK_SIZE;
          return true;
        }
        if (state == CHUNK_SIZE_START) {
          return fail(Http1Error.INVALID_CHUNK);
        }
        if (c == ';') {
          state = CHUNK_EXTENSION;
          return true;
        }
        if (c == '\r') {
          state = CHUNK_SIZE_LF;
          return true;
        }
        return fail(Http1Error.INVALID_CHUNK);
      }
      case CHUNK_EXTENSION -> {
        if (TOKEN[c]) {
          state = CHUNK_EXTENSION_NAME;
          return true;
        }
        return fail(Http1Error.INVALID_CHUNK);
      }
      case CHUNK_EXTENSION_NAME -> {
        if (TOKEN[c]) {
          return true;
        }
        return afterExtensionPart(c, true);
      }
      case CHUNK_EXTENSION_VALUE_START -> {
        if (c == '"') {
          state = CHUNK_EXTENSION_QUOTED;
          return true;
        }
        if (TOKEN[c]) {
          state = CHUNK_EXTENSION_VALUE;
          return true;
        }
        return fail(Http1Error.INVALID_CHUNK);
      }
      case CHUNK_EXTENSION_VALUE -> {
        if (TOKEN[c]) {
          return true;
        }
        return afterExtensionPart(c, false);
      }
      case CHUNK_EXTENSION_QUOTED -> {
        if (c == '"') {
          state = CHUNK_EXTENSION_AFTER_QUOTED;
          return true;
        }
        if (c == '\\') {
          state = CHUNK_EXTENSION_QUOTED_ESCAPE;
          return true;
        }
        if (c == '\t' || (c >= 0x20 && c != 0x7f)) {
          return true;
        }
        return fail(Http1Error.INVALID_CHUNK);
      }
      case CHUNK_EXTENSION_QUOTED_ESCAPE -> {
        if (c == '\t' || (c >= 0x20 && c != 0x7f)) {
          state = CHUNK_EXTENSION_QUOTED;
          return true;
        }
        return fail(Http1Error.INVALID_CHUNK);
      }
      case CHUNK_EXTENSION_AFTER_QUOTED -> {
        return afterExtensionPart(c, false);
      }
      case CHUNK_SIZE_LF -> {
        if (c != '\n') {
          return fail(Http1Error.INVALID_CHUNK);
        }
        state = bodyRemaining == 0 ? TRAILER_LINE_START : CHUNK_DATA;
        return true;
      }
      case CHUNK_DATA_CR -> {
        if (c != '\r') {
          return fail(Http1Error.INVALID_CHUNK);
        }
        state = CHUNK_DATA_LF;
        return true;
      }
      case CHUNK_DATA_LF -> {
        if (c != '\n') {
          return fail(Http1Error.INVALID_CHUNK);
        }
        state = CHUNK_SIZE_START;
        return true;
      }
      case TRAILER_LINE_START -> {
        if (c == '\r') {
          state = TRAILER_END_LF;
          return true;
        }
        if (!TOKEN[c]) {
          return fail(Http1Error.INVALID_HEADER_TOKEN);
        }
        headerCount++;
        state = TRAILER_LINE;
        return true;
      }
      case TRAILER_LINE -> {
        if (c == '\r') {
          state = TRAILER_LINE_LF;
          return true;
        }
        if (!VALUE_CHAR[c] && c != ':') {
          return fail(Http1Error.INVALID_HEADER_VALUE);
        }
        return true;
      }
      case TRAILER_LINE_LF -> {
        if (c != '\n') {
          return fail(Http1Error.LINE_ENDING);
        }
        state = TRAILER_LINE_START;
        return true;
      }
      case TRAILER_END_LF -> {
        if (c != '\n') {
          return fail(Http1Error.LINE_ENDING);
        }
        completeMessage(timestampNanos);
        return true;
      }
      default -> throw new IllegalStateException("state " + state);
    }
  }

  /**
   * Checks a Content-Length character as it arrives: digits, then only trailing whitespace, and
   * no overflow. {@code contentLength} accumulates the digits.
   */
  private boolean contentLengthChar(int c) {
    if (c >= '0' && c <= '9') {
      if (tokenLength > 0 && (token[tokenLength - 1] == ' ' || token[tokenLength - 1] == '\t')) {
        return false;
      }
      long value = tokenLength == 0 ? 0 : contentLength;
      if (value > (Long.MAX_VALUE - 9) / 10) {
        return false;
      }
      contentLength = value * 10 + (c - '0');
      return true;
    }
    return (c == ' ' || c == '\t') && tokenLength > 0;
  }

  /** After a chunk extension name or value: another extension, a value, or the line end. */
  private boolean afterExtensionPart(int c, boolean afterName) {
    if (c == ';') {
      state = CHUNK_EXTENSION;
      return true;
    }
    if (afterName && c == '=') {
      state = CHUNK_EXTENSION_VALUE_START;
      return true;
    }
    if (c == '\r') {
      state = CHUNK_SIZE_LF;
      return true;
    }
    return fail(Http1Error.INVALID_CHUNK);
  }

  private boolean startHeaderName(int c) {
    if (!TOKEN[c]) {
      return fail(Http1Error.INVALID_HEADER_TOKEN);
    }
    name[0] = (byte) c;
    nameLength = 1;
    state = HEADER_NAME;
    return true;
  }

  private void beginMessage(long position, long timestampNanos) {
    reset();
    startPosition = position;
    startNanos = timestampNanos;
  }

  /** Clears the message under way. */
  private void reset() {
    headBytes = 0;
    tokenLength = 0;
    tokenOverflow = false;
    nameLength = 0;
    method = null;
    target = null;
    protocol = null;
    versionMajor = 0;
    versionMinor = 0;
    statusCode = 0;
    statusDigits = 0;
    statusText = null;
    headerCount = 0;
    contentLength = -1;
    hasContentLength = false;
    hasTransferEncoding = false;
    chunkedLast = false;
    connectionClose = false;
    connectionKeepAlive = false;
    connectionUpgrade = false;
    hasUpgrade = false;
    upgradeH2c = false;
    kept.clear();
    framing = Framing.NONE;
    bodyRemaining = 0;
    bodyBytes = 0;
    body.release();
    bodyTruncated = false;
    truncated = false;
    upgradeAfterMessage = false;
    // decided by the first token in EITHER mode
    parsingRequest = mode == Mode.REQUESTS;
  }

  /**
   * Gives the body buffer's bytes back to the budget (a complete message's prefix now belongs to
   * it). Also for the session when its connection ends.
   */
  public void releaseBody() {
    body.release();
    bodies.give(heldRequestBudget);
    heldRequestBudget = 0;
  }

  /**
   * The budget bytes of the request just reported ({@link Listener#onMessage}): its body prefix
   * still counts in the pipeline's budget, and whoever holds the request gives them back when it
   * lets go (it is answered, dropped or forgotten). A request's bytes, unlike a response's, wait
   * for the answer: the budget must still see them, or waiting uploads outgrow the heap.
   */
  public int takeRequestBodyBudget() {
    int held = heldRequestBudget;
    heldRequestBudget = 0;
    return held;
  }

  private boolean append(int c) {
    if (tokenLength < token.length) {
      token[tokenLength++] = (byte) c;
    } else if (tokenLength < MAX_VALUE_BYTES) {
      growToken(tokenLength + 1);
      token[tokenLength++] = (byte) c;
    } else {
      tokenOverflow = true;
    }
    return true;
  }

  private boolean fail(Http1Error error) {
    listener.onError(error);
    lose(lastNanos);
    return false;
  }

  /** Drops the message under way and waits for a start line; tells the listener. */
  private void lose(long timestampNanos) {
    reset();
    state = RESYNC;
    listener.onLost(timestampNanos);
  }

  /**
   * The stream's framing is known to be wrong (the listener learnt it after the fact, e.g. a
   * response framed before its request was seen): drop what is under way and resynchronise.
   * Reported through {@link Listener#onLost} like any other loss.
   */
  public void loseSync(long timestampNanos) {
    if (state != UPGRADED && state != UPGRADE_PENDING) {
      lose(timestampNanos);
    }
  }

  /** The end of a header line: act on the headers framing depends on, keep the wanted ones. */
  private boolean endHeader() {
    int end = tokenLength;
    while (end > 0 && (token[end - 1] == ' ' || token[end - 1] == '\t')) {
      end--;
    }
    tokenLength = end;
    switch (headerId) {
      case H_CONTENT_LENGTH -> {
        // the digits were checked and summed as they arrived
        if (tokenLength == 0) {
          return fail(Http1Error.INVALID_CONTENT_LENGTH);
        }
        hasContentLength = true;
      }
      case H_TRANSFER_ENCODING -> {
        hasTransferEncoding = true;
        chunkedLast = lastCodingIsChunked();
      }
      case H_CONNECTION -> connectionTokens();
      case H_UPGRADE -> {
        hasUpgrade = true;
        upgradeH2c |= equalsIgnoreCase(token, 0, tokenLength, "h2c");
      }
      default -> {}
    }
    if (headerId >= KeptHeaders.FIRST_KEPT || kept.all()) {
      kept.keep(headerId, name, Math.min(nameLength, MAX_NAME_BYTES), token, tokenLength);
    }
    tokenLength = 0;
    tokenOverflow = false;
    return true;
  }

  /** Whether the last coding of the Transfer-Encoding value in the token buffer is chunked. */
  private boolean lastCodingIsChunked() {
    int end = tokenLength;
    int start = end;
    while (start > 0 && token[start - 1] != ',') {
      start--;
    }
    while (start < end && (token[start] == ' ' || token[start] == '\t')) {
      start++;
    }
    return equalsIgnoreCase(token, start, end - start, "chunked");
  }

  private void connectionTokens() {
    int i = 0;
    while (i < tokenLength) {
      while (i < tokenLength && (token[i] == ' ' || token[i] == '\t' || token[i] == ',')) {
        i++;
      }
      int start = i;
      while (i < tokenLength && token[i] != ',' && token[i] != ' ' && token[i] != '\t') {
        i++;
      }
      int length = i - start;
      if (equalsIgnoreCase(token, start, length, "close")) {
        connectionClose = true;
      } else if (equalsIgnoreCase(token, start, length, "keep-alive")) {
        connectionKeepAlive = true;
      } else if (equalsIgnoreCase(token, start, length, "upgrade")) {
        connectionUpgrade = true;
      }
    }
  }

  /**
   * The header block is complete: decide the framing. Returns true when the message has no body
   * and is complete now. With {@code cut}, the block was not captured whole.
   */
  private boolean headComplete(long timestampNanos, boolean cut) {
    if (cut && (state == HEADER_VALUE || state == HEADER_VALUE_LF || state == HEADER_LINE_AFTER_LF)) {
      endHeader();
    }
    if (method == null && statusDigits < 3) {
      return false; // not even the start line: nothing to report
    }
    headNanos = timestampNanos;
    if (parsingRequest) {
      if (hasTransferEncoding) {
        if (!chunkedLast) {
          fail(Http1Error.INVALID_TRANSFER_ENCODING);
          return false;
        }
        framing = Framing.CHUNKED;
      } else if (hasContentLength && contentLength > 0) {
        framing = Framing.LENGTH;
      }
      if (method.equals("CONNECT") || method.equals("PRI")) {
        // a tunnel, or the HTTP/2 preface, follows the head
        framing = Framing.NONE;
        upgradeAfterMessage = true;
      } else if (connectionUpgrade && hasUpgrade) {
        upgradeAfterMessage = true;
      }
      if (listener.onRequestHead(method) == HeadAction.NO_BODY) {
        framing = Framing.NONE;
      }
    } else {
      HeadAction action = listener.onResponseHead(statusCode);
      if (statusCode == 101 || action == HeadAction.UPGRADE) {
        framing = Framing.NONE;
        upgradeAfterMessage = true;
      } else if ((statusCode >= 100 && statusCode < 200) || statusCode == 204 || statusCode == 304 || action == HeadAction.NO_BODY) {
        framing = Framing.NONE;
      } else if (hasTransferEncoding) {
        framing = chunkedLast ? Framing.CHUNKED : Framing.UNTIL_CLOSE;
      } else if (hasContentLength) {
        framing = contentLength > 0 ? Framing.LENGTH : Framing.NONE;
      } else {
        framing = Framing.UNTIL_CLOSE;
      }
    }
    if (cut) {
      return true;
    }
    switch (framing) {
      case NONE -> {
        return true;
      }
      case LENGTH -> {
        bodyRemaining = contentLength;
        state = BODY_LENGTH;
      }
      case CHUNKED -> {
        bodyRemaining = 0;
        state = CHUNK_SIZE_START;
      }
      case UNTIL_CLOSE -> state = BODY_UNTIL_CLOSE;
    }
    return false;
  }

  /**
   * {@code left} body bytes follow the current chunk of input, up to position {@code end}: when
   * they are many and the body prefix is full, the capture may skip copying them. Once per end.
   */
  private void bodyAhead(long left, long end) {
    if (left >= SKIP_HINT_MIN_BYTES && (body.length() >= bodyCaptureBytes || body.refused()) && end != hintedEnd) {
      hintedEnd = end;
      listener.onBodyAhead(end);
    }
  }

  private void captureBody(byte[] data, int offset, int length) {
    bodyBytes += length;
    if (bodyCaptureBytes == 0 || length == 0) {
      return;
    }
    int n = body.keep(data, offset, length, bodyCaptureBytes);
    if (n < length) {
      bodyTruncated = true;
    }
  }

  /**
   * Uncaptured bytes ran past the current chunk's data. When they are exactly what is left of
   * {@code CRLF "0" CRLF CRLF} (the data's line end and the last chunk, no trailers), the message
   * ended there; the only other framing of those few bytes would be a one- or two-byte chunk
   * split across writes. Otherwise the framing is lost.
   */
  private void endsWithLastChunk(long count, long timestampNanos) {
    long left =
        switch (state) {
          case CHUNK_DATA, CHUNK_DATA_CR -> LAST_CHUNK_BYTES;
          case CHUNK_DATA_LF -> LAST_CHUNK_BYTES - 1;
          default -> LAST_CHUNK_BYTES - 2; // CHUNK_SIZE_START: "0" CRLF CRLF
        };
    if (count == left) {
      bodyRemaining = 0;
      completeMessage(timestampNanos);
    } else {
      framingLost(timestampNanos);
    }
  }

  /** {@code CRLF "0" CRLF CRLF}: the end of chunk data followed by the last chunk. */
  private static final int LAST_CHUNK_BYTES = 7;

  /** Chunk framing was lost in uncaptured bytes: report what was seen, then resync. */
  private void framingLost(long timestampNanos) {
    if (state.inBody) {
      truncated = true;
      bodyTruncated |= bodyCaptureBytes > 0;
      completeMessage(timestampNanos);
    }
    if (state != UPGRADED && state != UPGRADE_PENDING) {
      lose(timestampNanos);
    }
  }

  private void completeMessage(long timestampNanos) {
    boolean request = parsingRequest;
    boolean persistentByDefault = versionMajor > 1 || (versionMajor == 1 && versionMinor >= 1);
    boolean keepAlive = persistentByDefault ? !connectionClose : connectionKeepAlive;
    HttpMessage message =
        new HttpMessage(
            request,
            method,
            target,
            statusCode,
            statusText,
            flavor(),
            framing,
            contentLength,
            bodyBytes,
            headerCount,
            kept.host(),
            kept.userAgent(),
            kept.build(),
            body.bytes(),
            bodyTruncated,
            !keepAlive,
            truncated,
            startPosition,
            startNanos,
            headNanos,
            timestampNanos);
    if (request && "PRI".equals(method)) {
      // the HTTP/2 connection preface: what follows is HTTP/2, and the preface no request
      reset();
      state = UPGRADED;
      listener.onUpgrade();
      return;
    }
    if (request) {
      // a request's prefix stays in the budget while it waits for its answer
      heldRequestBudget += body.detach();
    }
    boolean upgrade = upgradeAfterMessage;
    lastUpgradeH2c = upgradeH2c;
    boolean interim = !request && statusCode >= 100 && statusCode < 200 && statusCode != 101;
    reset();
    if (upgrade) {
      state = request ? UPGRADE_PENDING : UPGRADED;
    } else if (!keepAlive && !interim) {
      state = CLOSED;
    } else {
      state = START;
    }
    listener.onMessage(message);
    if (state == UPGRADED) {
      listener.onUpgrade();
    }
  }

  private String flavor() {
    if (versionMajor == 1) {
      return versionMinor == 0 ? "1.0" : "1.1";
    }
    return versionMajor + "." + versionMinor;
  }

  private boolean validVersion() {
    return (versionMajor == 1 && versionMinor <= 1)
        || (versionMajor == 0 && versionMinor == 9)
        || (versionMajor == 2 && versionMinor == 0);
  }

  /** RTSP and ICE requests use only their own methods; HTTP never uses theirs. */
  private boolean methodAllowed() {
    return switch (protocol) {
      case "HTTP" -> !RTSP_ONLY.contains(method);
      case "ICE" -> method.equals("SOURCE");
      default -> RTSP_METHODS.contains(method);
    };
  }

  /** The protocol name in the token buffer ("HTTP", "RTSP", "ICE"), interned, or null. */
  private String protocolName() {
    if (asciiEquals(token, 0, tokenLength, "HTTP")) {
      return "HTTP";
    }
    if (asciiEquals(token, 0, tokenLength, "RTSP")) {
      return "RTSP";
    }
    if (asciiEquals(token, 0, tokenLength, "ICE")) {
      return "ICE";
    }
    return null;
  }

  /** The method in the token buffer, as a shared constant when known, or null when invalid. */
  private String methodName() {
    int index = methodIndex();
    return index < 0 ? null : METHODS[index];
  }

  /** The method in the token buffer: its index in {@code METHODS}, or -1. */
  private int methodIndex() {
    for (int i = 0; i < METHODS.length; i++) {
      if (asciiEquals(token, 0, tokenLength, METHODS[i])) {
        return i;
      }
    }
    return -1;
  }

  private String reasonPhrase() {
    return switch (statusCode) {
      case 200 -> constantIfEqual("OK");
      case 201 -> constantIfEqual("Created");
      case 204 -> constantIfEqual("No Content");
      case 301 -> constantIfEqual("Moved Permanently");
      case 302 -> constantIfEqual("Found");
      case 304 -> constantIfEqual("Not Modified");
      case 400 -> constantIfEqual("Bad Request");
      case 401 -> constantIfEqual("Unauthorized");
      case 403 -> constantIfEqual("Forbidden");
      case 404 -> constantIfEqual("Not Found");
      case 500 -> constantIfEqual("Internal Server Error");
      case 502 -> constantIfEqual("Bad Gateway");
      case 503 -> constantIfEqual("Service Unavailable");
      default -> tokenString();
    };
  }

  private String constantIfEqual(String constant) {
    return asciiEquals(token, 0, tokenLength, constant) ? constant : tokenString();
  }

  private String tokenString() {
    return text(token, 0, tokenLength);
  }

  private int headerId() {
    return kept.id(name, nameLength);
  }

  @Override
  public String toString() {
    return "Http1Parser{" + mode + ", state " + state + (kept.all() ? ", all headers" : "")
        + (bodyCaptureBytes > 0 ? ", body " + bodyCaptureBytes : "") + "}";
  }
}
