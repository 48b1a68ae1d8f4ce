package dev.spanwire.exporter.protocol.http1;

import static dev.spanwire.exporter.protocol.http1.Http1Syntax.equalsIgnoreCase;

import dev.spanwire.exporter.exchange.Headers;
import dev.spanwire.exporter.protocol.HeaderSelection;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One parser's header names: the framing ones every HTTP/1 parser acts on (ids 1 to 4) and the
 * ones its {@link HeaderSelection} keeps (ids from {@link #FIRST_KEPT}), found by comparing a name
 * only with names of its length. Kept fields are collected per message; a stream repeats the same
 * names and values (Host, User-Agent) request after request, so the last string of each kept
 * name and value is reused when the bytes repeat.
 */
final class KeptHeaders {
  static final int FIRST_KEPT = 5;
  private static final List<String> FRAMING = List.of("content-length", "transfer-encoding", "connection", "upgrade");
  private static final int LONGEST = 64;

  /** The names of one selection, by id and length: made once per selection, shared by parsers. */
  private record Names(String[] byId, int[][] idsByLength, int hostId, int userAgentId) {
    static Names of(HeaderSelection selection) {
      List<String> ids = new ArrayList<>();
      ids.add(null);
      ids.addAll(FRAMING);
      for (String name : selection.names()) {
        if (!FRAMING.contains(name)) {
          ids.add(name);
        }
      }
      String[] byId = ids.toArray(String[]::new);
      int[][] byLength = new int[LONGEST + 1][];
      for (int length = 0; length <= LONGEST; length++) {
        final int l = length;
        byLength[length] = java.util.stream.IntStream.range(1, byId.length).filter(id -> byId[id].length() == l).toArray();
      }
      return new Names(byId, byLength, indexOf(byId, "host"), indexOf(byId, "user-agent"));
    }
  }

  private static final java.util.Map<HeaderSelection, Names> NAMES = new java.util.concurrent.ConcurrentHashMap<>();

  private final boolean all;
  private final String[] names;
  private final int[][] idsByLength;
  /**
   * By id: the last name and value strings with their bytes (id 0: fields kept only by "all"),
   * made at a name's first field: a parser is made for each direction of each connection, and
   * most ids never come on most connections.
   */
  private final LastText[] lastNames;
  private final LastText[] lastValues;
  private final Headers.Builder builder = Headers.builder();
  /** Host and User-Agent are kept apart from the other fields: every request has them. */
  private final int hostId;
  private final int userAgentId;
  private String host;
  private String userAgent;

  KeptHeaders(HeaderSelection selection) {
    this.all = selection.all();
    Names table = NAMES.computeIfAbsent(selection, Names::of);
    this.names = table.byId();
    this.idsByLength = table.idsByLength();
    this.lastNames = new LastText[names.length];
    this.lastValues = new LastText[names.length];
    this.hostId = table.hostId();
    this.userAgentId = table.userAgentId();
  }

  private static LastText last(LastText[] texts, int id) {
    LastText text = texts[id];
    if (text == null) {
      text = new LastText();
      texts[id] = text;
    }
    return text;
  }

  /** Whether every field is kept. */
  boolean all() {
    return all;
  }

  /** The id of the name {@code name[0, length)}: a framing id, a kept id, or 0. */
  int id(byte[] name, int length) {
    if (length > LONGEST) {
      return 0;
    }
    int first = name[0];
    if (first >= 'A' && first <= 'Z') {
      first += 32;
    }
    for (int id : idsByLength[length]) {
      String known = names[id];
      if (known.charAt(0) == first && equalsIgnoreCase(name, 0, length, known)) {
        return id;
      }
    }
    return 0;
  }

  /** Whether fields of this id (or, keeping all, any field) are kept. */
  boolean keeps(int id) {
    return id >= FIRST_KEPT || all;
  }

  /**
   * Keeps a field of the message under way: Host and User-Agent (their first value) apart, the
   * others (and, keeping all, every field) in order; past the bound a field is dropped.
   */
  void keep(int id, byte[] name, int nameLength, byte[] value, int valueLength) {
    if (id != 0 && id == hostId) {
      if (host == null) {
        host = last(lastValues, id).get(value, valueLength);
      }
      if (!all) {
        return;
      }
    } else if (id != 0 && id == userAgentId) {
      if (userAgent == null) {
        userAgent = last(lastValues, id).get(value, valueLength);
      }
      if (!all) {
        return;
      }
    }
    builder.add(last(lastNames, id).get(name, nameLength), last(lastValues, id).get(value, valueLength));
  }

  /** The Host header of the message under way, or null. */
  String host() {
    return host;
  }

  /** The User-Agent header of the message under way, or null. */
  String userAgent() {
    return userAgent;
  }

  /** The other fields kept of the message just complete; the next message starts empty. */
  Headers build() {
    host = null;
    userAgent = null;
    return builder.build();
  }

  /** Drops what was kept of a message that will not complete. */
  void clear() {
    build();
  }

  private static int indexOf(String[] names, String name) {
    for (int i = 1; i < names.length; i++) {
      if (name.equals(names[i])) {
        return i;
      }
    }
    return -1;
  }

  /** A text's last bytes and string: made once while the bytes repeat. */
  private static final class LastText {
    private static final byte[] NONE = new byte[0];
    private byte[] bytes = NONE;
    private String string;

    String get(byte[] value, int length) {
      if (string == null || !Arrays.equals(bytes, 0, bytes.length, value, 0, length)) {
        bytes = Arrays.copyOf(value, length);
        string = Http1Syntax.text(bytes, 0, length);
      }
      return string;
    }
  }
}
