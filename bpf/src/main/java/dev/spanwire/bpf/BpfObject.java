package dev.spanwire.bpf;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * An opened BPF ELF object ({@code struct bpf_object}). Open it, configure maps and programs, then
 * {@link #load}; programs and maps belong to it and die with it.
 *
 * <p>Not thread-safe: one thread opens, configures and loads it. {@link #close} may run on another
 * thread (a shutdown hook) while other threads still call its maps: each map call holds the object
 * open (a shared lock) and {@link #close} waits for the calls under way, then frees the maps; a map
 * call after that throws {@link ClosedException}. Closing twice is harmless.
 */
public final class BpfObject implements AutoCloseable {
  /** Verifier log kept on a refused load; the kernel keeps the tail when the log is longer. */
  static final int LOG_BUFFER_BYTES = 1 << 20;
  /** The part of a refused load's verifier log kept in the exception. */
  static final int LOG_TAIL_CHARS = 16 * 1024;

  private final String name;
  /** The verifier's log buffer until the load is done (1 MiB, zeroed so resident); then null. */
  private Arena logArena;
  private final MemorySegment logBuffer;
  private MemorySegment object;
  private volatile boolean closed;
  /**
   * Shared by each call on one of the maps, exclusive in {@link #close}: libbpf frees the maps there
   * (a ring buffer handler still draining after the capture's close once used a freed map, and the
   * agent died in libc formatting libbpf's warning about it).
   */
  private final ReentrantReadWriteLock use = new ReentrantReadWriteLock();
  private boolean loadAttempted;
  private boolean loaded;

  private BpfObject(String name, Arena logArena, MemorySegment object, MemorySegment logBuffer) {
    this.name = name;
    this.logArena = logArena;
    this.object = object;
    this.logBuffer = logBuffer;
  }

  /** Opens an object from the ELF bytes of a classpath resource next to {@code anchor}. */
  public static BpfObject openResource(Class<?> anchor, String resource) {
    try (InputStream in = anchor.getResourceAsStream(resource)) {
      if (in == null) {
        throw new BpfException("open " + resource, 0, "resource not found on the classpath");
      }
      return open(resource, in.readAllBytes());
    } catch (IOException e) {
      throw new UncheckedIOException("read " + resource, e);
    }
  }

  /** Opens an object from ELF bytes; {@code name} names it in errors and its internal maps. */
  public static BpfObject open(String name, byte[] elf) {
    LibbpfLog.install();
    Arena logArena = Arena.ofShared();
    // the image, options and name are read by the open call only: libbpf copies what it keeps
    // (programs, BTF, sections' data) and lets go of the ELF before it returns
    try (Arena openArena = Arena.ofConfined()) {
      MemorySegment image = openArena.allocate(elf.length, 8);
      MemorySegment.copy(elf, 0, image, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, elf.length);
      MemorySegment logBuffer = logArena.allocate(LOG_BUFFER_BYTES);
      MemorySegment opts = openArena.allocate(Libbpf.OPEN_OPTS);
      opts.set(java.lang.foreign.ValueLayout.JAVA_LONG, 0, Libbpf.OPEN_OPTS.byteSize());
      opts.set(
          java.lang.foreign.ValueLayout.ADDRESS,
          offset("object_name"),
          openArena.allocateFrom(objectName(name)));
      opts.set(java.lang.foreign.ValueLayout.ADDRESS, offset("kernel_log_buf"), logBuffer);
      opts.set(java.lang.foreign.ValueLayout.JAVA_LONG, offset("kernel_log_size"), LOG_BUFFER_BYTES);
      MemorySegment callState = Libbpf.callState(openArena);
      MemorySegment object =
          (MemorySegment)
              Libbpf.BPF_OBJECT__OPEN_MEM.invokeExact(callState, image, (long) elf.length, opts);
      Libbpf.checkPointer("open " + name, object, callState);
      return new BpfObject(name, logArena, object, logBuffer);
    } catch (Throwable t) {
      logArena.close();
      throw Ffm.rethrow(t);
    }
  }

  private static long offset(String field) {
    return Libbpf.OPEN_OPTS.byteOffset(java.lang.foreign.MemoryLayout.PathElement.groupElement(field));
  }

  /** "spanwire.bpf.o" becomes "spanwire", which prefixes internal maps ("spanwire.rodata"). */
  private static String objectName(String name) {
    String base = name.substring(name.lastIndexOf('/') + 1);
    int dot = base.indexOf('.');
    return dot > 0 ? base.substring(0, dot) : base;
  }

  public String name() {
    return name;
  }

  /** The programs in section order. */
  public List<BpfProgram> programs() {
    List<BpfProgram> programs = new ArrayList<>();
    try {
      MemorySegment program = MemorySegment.NULL;
      while (true) {
        program = (MemorySegment) Libbpf.BPF_OBJECT__NEXT_PROGRAM.invokeExact(live(), program);
        if (program.equals(MemorySegment.NULL)) {
          return programs;
        }
        programs.add(new BpfProgram(program));
      }
    } catch (Throwable t) {
      throw Ffm.rethrow(t);
    }
  }

  /** The maps, internal ones ({@code .rodata}, {@code .bss}) included. */
  public List<BpfMap> maps() {
    List<BpfMap> maps = new ArrayList<>();
    try {
      MemorySegment map = MemorySegment.NULL;
      while (true) {
        map = (MemorySegment) Libbpf.BPF_OBJECT__NEXT_MAP.invokeExact(live(), map);
        if (map.equals(MemorySegment.NULL)) {
          return maps;
        }
        maps.add(new BpfMap(this, map));
      }
    } catch (Throwable t) {
      throw Ffm.rethrow(t);
    }
  }

  /** The map with this name; internal maps are matched by their suffix, e.g. {@code .rodata}. */
  public BpfMap map(String mapName) {
    for (BpfMap map : maps()) {
      if (map.name().equals(mapName) || (mapName.startsWith(".") && map.name().endsWith(mapName))) {
        return map;
      }
    }
    throw new BpfException("find map " + mapName + " in " + name, 0, "no such map");
  }

  /** The program with this function name. */
  public BpfProgram program(String programName) {
    for (BpfProgram program : programs()) {
      if (program.name().equals(programName)) {
        return program;
      }
    }
    throw new BpfException("find program " + programName + " in " + name, 0, "no such program");
  }

  /** The object's BTF (type information), readable before load. */
  MemorySegment btf() {
    try {
      return (MemorySegment) Libbpf.BPF_OBJECT__BTF.invokeExact(live());
    } catch (Throwable t) {
      throw Ffm.rethrow(t);
    }
  }

  /**
   * Creates the maps and loads the programs into the kernel. A refused program gives a
   * {@link BpfException} carrying the tail of the verifier's log.
   */
  public void load() {
    if (loadAttempted) {
      throw new IllegalStateException(name + (loaded ? " is already loaded" : " failed to load before"));
    }
    loadAttempted = true;
    try {
      loadOnce();
    } finally {
      // the log is read for a refused load's report before this; libbpf never loads an object twice
      releaseLog();
    }
  }

  private synchronized void releaseLog() {
    if (logArena != null) {
      logArena.close();
      logArena = null;
    }
  }

  private void loadOnce() {
    StringBuilder libbpfLines = new StringBuilder();
    int rc =
        LibbpfLog.capture(
            libbpfLines,
            () -> {
              try {
                return (int) Libbpf.BPF_OBJECT__LOAD.invokeExact(live());
              } catch (Throwable t) {
                throw Ffm.rethrow(t);
              }
            });
    if (rc < 0) {
      String log = logBuffer.getString(0);
      throw new BpfException("load " + name, -rc, Libbpf.strerror(-rc), verifierReport(libbpfLines, log));
    }
    loaded = true;
  }

  private static String verifierReport(CharSequence libbpfLines, String verifierLog) {
    StringBuilder report = new StringBuilder();
    report.append(libbpfLines);
    if (!verifierLog.isBlank()) {
      report.append("verifier log");
      if (verifierLog.length() > LOG_TAIL_CHARS) {
        report.append(" (last ").append(LOG_TAIL_CHARS).append(" characters)");
        verifierLog = verifierLog.substring(verifierLog.length() - LOG_TAIL_CHARS);
      }
      report.append(":\n").append(verifierLog.stripTrailing());
    }
    return report.isEmpty() ? null : report.toString();
  }

  public boolean isLoaded() {
    return loaded;
  }

  /** Whether {@link #close} has begun; any thread. */
  boolean isClosed() {
    return closed;
  }

  /**
   * Holds the object open for one call on its map {@code mapName}, until {@link #exitMapCall}; throws
   * {@link ClosedException} when it is closed. Any thread.
   */
  void enterMapCall(String mapName) {
    use.readLock().lock();
    if (closed) {
      use.readLock().unlock();
      throw new ClosedException("map " + mapName + " used after its object was closed");
    }
  }

  void exitMapCall() {
    use.readLock().unlock();
  }

  /** A map used after its object was closed: libbpf has freed it. */
  public static final class ClosedException extends IllegalStateException {
    ClosedException(String message) {
      super(message);
    }
  }

  private MemorySegment live() {
    if (object == null) {
      throw new IllegalStateException(name + " is closed");
    }
    return object;
  }

  /**
   * Unloads the programs and frees the maps, once the map calls under way on other threads have
   * returned; links must be closed first.
   */
  @Override
  public synchronized void close() {
    if (object == null) {
      return;
    }
    var exclusive = use.writeLock();
    exclusive.lock();
    try {
      closed = true; // map calls from now on throw; none is under way
      Libbpf.BPF_OBJECT__CLOSE.invokeExact(object);
    } catch (Throwable t) {
      throw Ffm.rethrow(t);
    } finally {
      object = null;
      exclusive.unlock();
      releaseLog();
    }
  }

  @Override
  public String toString() {
    return "BpfObject{" + name + (loaded ? ", loaded" : "") + (object == null ? ", closed" : "") + "}";
  }
}
