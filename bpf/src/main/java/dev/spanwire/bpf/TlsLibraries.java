package dev.spanwire.bpf;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The TLS capture source: uprobes on a TLS library's read and write calls, attached once per
 * library file for every process that maps it. A scan of {@code /proc} finds the files: shared
 * libraries named like libssl (OpenSSL 1.1 and 3, BoringSSL builds), and executables that export
 * OpenSSL's functions themselves (node links OpenSSL in). Files are opened through {@code
 * /proc/PID/root}, so processes in containers are covered. A library no process maps any more is
 * detached at the next scan; the system's own libssl (from the loader cache) stays attached, so a
 * client started later is seen from its first call.
 *
 * <p>Thread safe: scans run on the agent's housekeeping thread, close on any.
 */
public final class TlsLibraries implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(TlsLibraries.class.getName());
  /** Executables and libraries found not to be TLS libraries, remembered up to this many. */
  private static final int MAX_NEGATIVE = 8192;

  /** Whether an ELF section holds one of this source's programs. */
  public static boolean owns(String section) {
    return section.equals("uprobe") || section.equals("uretprobe");
  }

  /**
   * The suffix of the return programs that send through the socket capture's data path, which
   * follows HTTP/2 frames (kernel 6.3+); those without it serve the syscall capture.
   */
  static final String WALK = "_walk";

  /** Whether this source's program loads beside the given capture backend (never {@code auto}). */
  static boolean loadsWith(BpfProgram program, CaptureBackend backend) {
    if (!owns(program.section())) {
      return false;
    }
    // the entries serve both; a return comes in the backend's form
    return program.section().equals("uprobe") || program.name().endsWith(WALK) == (backend == CaptureBackend.SOCKET);
  }

  private record Attached(String file, List<BpfLink> links, boolean pinned) {}

  private final BpfObject object;
  private final Path proc;
  private final int agentPid;
  private final Map<String, Attached> attached = new HashMap<>();
  private final Set<String> negative = new HashSet<>();
  private boolean closed;
  private int refusals;
  private String lastRefusal;
  private boolean refusedForPrivilege;
  private static final int EPERM = 1;
  private static final int EACCES = 13;
  private static final int EOPNOTSUPP = 95;
  /** Whether the kernel takes attach cookies; each library's probes carry its sequence number. */
  private boolean cookies = true;
  private long attachSequence;

  private final String returnSuffix;

  TlsLibraries(BpfObject object, Path proc, int agentPid, CaptureBackend backend) {
    this.object = object;
    this.returnSuffix = backend == CaptureBackend.SOCKET ? WALK : "";
    this.proc = proc;
    this.agentPid = agentPid;
  }

  /** The library files attached now (as opened, e.g. {@code /proc/1/root/usr/lib/.../libssl.so.3}). */
  public synchronized List<String> files() {
    return attached.values().stream().map(Attached::file).sorted().toList();
  }

  /** TLS library files the kernel refused to hook so far, and why the last one was refused. */
  public synchronized int refusals() {
    return refusals;
  }

  /** The kernel's reason for the last refusal, or null. */
  public synchronized String lastRefusal() {
    return lastRefusal;
  }

  /** Whether the last refusal was the kernel's permission check (EACCES, EPERM). */
  public synchronized boolean refusedForPrivilege() {
    return refusedForPrivilege;
  }

  /** Uprobe attachments now. */
  public synchronized int links() {
    return attached.values().stream().mapToInt(a -> a.links().size()).sum();
  }

  /**
   * Attaches the system's libssl files from the loader cache ({@code /etc/ld.so.cache} names them;
   * the usual directories are searched), kept for the agent's life.
   */
  public synchronized void attachSystemLibraries() {
    for (Path file : systemLibraries()) {
      String key = fileKey(file);
      if (key != null && !attached.containsKey(key)) {
        try {
          tryAttach(key, file.toRealPath().toString(), true);
        } catch (IOException e) {
          // gone since it was listed: the scans still find what processes map
        }
      }
    }
  }

  /** The system's libssl files, as {@link #attachSystemLibraries} looks for them. */
  private static List<Path> systemLibraries() {
    List<Path> found = new ArrayList<>();
    for (String dir : List.of("/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu",
        "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/lib64", "/usr/lib", "/lib")) {
      Path directory = Path.of(dir);
      if (!Files.isDirectory(directory)) {
        continue;
      }
      try (DirectoryStream<Path> files = Files.newDirectoryStream(directory, "libssl.so.*")) {
        files.forEach(found::add);
      } catch (IOException e) {
        // an unreadable directory: the scans still find what processes map
      }
    }
    return found;
  }

  /** A file's probe sites as {@link #analyze} found them, keyed by {@link #fileKey}; none when it is no TLS library. */
  private record Analysis(String file, List<TlsProbeSites.Site> sites) {}

  /** The system libraries' analyses made ahead of the capture's start (see {@link #analyzeSystemLibraries}). */
  private static final Map<String, Analysis> ANALYZED_AHEAD = new ConcurrentHashMap<>();

  /**
   * Reads the system's libssl files' symbols and chooses their probe sites ahead of {@link
   * #attachSystemLibraries}, which then only attaches: the reading and the instruction decoding are
   * about 50 ms of a start, done on another core while the kernel verifies the programs. Each
   * analysis is taken once, by the file's device and inode and its path.
   */
  public static void analyzeSystemLibraries() {
    for (Path file : systemLibraries()) {
      try {
        String key = fileKey(file);
        if (key != null) {
          String real = file.toRealPath().toString();
          ANALYZED_AHEAD.put(key, new Analysis(real, analyze(real)));
        }
      } catch (IOException | RuntimeException e) {
        // analysed again where it is attached, which reports what goes wrong
      }
    }
  }

  /** The probe sites of a TLS library file, or null when it is none (or cannot be read). */
  private static List<TlsProbeSites.Site> analyze(String file) {
    try (FileChannel channel = FileChannel.open(Path.of(file), StandardOpenOption.READ)) {
      Map<String, ElfSymbols.Function> defined = ElfSymbols.functions(Path.of(file), TlsProbeSites.FUNCTIONS);
      if (!defined.containsKey("SSL_read") || !defined.containsKey("SSL_write")) {
        return null;
      }
      return TlsProbeSites.choose(defined, (offset, length) -> read(channel, offset, length));
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /**
   * Looks through every process's mappings for TLS library files not attached yet, attaches them,
   * and detaches the ones no process maps any more (unless pinned). Returns how many files were
   * attached by this scan.
   */
  public synchronized int scan() {
    if (closed) {
      return 0;
    }
    Set<String> inUse = new HashSet<>();
    int added = 0;
    try (DirectoryStream<Path> pids = Files.newDirectoryStream(proc, p -> isPid(p.getFileName().toString()))) {
      for (Path pidDir : pids) {
        int pid = Integer.parseInt(pidDir.getFileName().toString());
        if (pid == agentPid) {
          continue;
        }
        added += scanProcess(pidDir, inUse);
      }
    } catch (IOException e) {
      LOG.log(System.Logger.Level.DEBUG, "scan of {0} failed: {1}", proc, e.getMessage());
      return added;
    }
    for (var it = attached.entrySet().iterator(); it.hasNext(); ) {
      var entry = it.next();
      if (!entry.getValue().pinned() && !inUse.contains(entry.getKey())) {
        LOG.log(System.Logger.Level.DEBUG, "detaching TLS library {0}: no process maps it", entry.getValue().file());
        closeAll(entry.getValue().links());
        it.remove();
      }
    }
    return added;
  }

  /**
   * Looks at one process (one that just ran exec): its executable and the libraries mapped so
   * far. Attaches what is new; detaches nothing. Returns how many files were attached.
   */
  public synchronized int scanProcess(int pid) {
    if (closed || pid == agentPid) {
      return 0;
    }
    return scanProcess(proc.resolve(Integer.toString(pid)), new HashSet<>());
  }

  private int scanProcess(Path pidDir, Set<String> inUse) {
    List<String> lines;
    String exe;
    try {
      lines = Files.readAllLines(pidDir.resolve("maps"));
      exe = Files.readSymbolicLink(pidDir.resolve("exe")).toString();
    } catch (IOException | RuntimeException e) {
      return 0; // gone, a kernel thread, or not ours to read
    }
    int added = 0;
    Set<String> seen = new HashSet<>();
    for (String line : lines) {
      ExecutableMapping mapping = ExecutableMapping.parse(line);
      if (mapping == null) {
        continue;
      }
      String path = mapping.path();
      String key = mapping.key();
      if (!seen.add(key)) {
        continue;
      }
      String name = path.substring(path.lastIndexOf('/') + 1);
      boolean candidate = name.startsWith("libssl") || name.contains("boringssl") || path.equals(exe);
      if (!candidate) {
        continue;
      }
      if (attached.containsKey(key)) {
        inUse.add(key);
        continue;
      }
      if (negative.contains(key)) {
        continue;
      }
      if (tryAttach(key, pidDir.resolve("root").toString() + path, false)) {
        inUse.add(key);
        added++;
      }
    }
    return added;
  }

  /**
   * An executable mapping of a file that is still there, from a line of {@code /proc/PID/maps}
   * ({@code address perms offset dev inode path}); {@code key} is {@code dev:inode}. Read by hand:
   * every process's maps are read every few seconds, most lines are not such mappings, and a regular
   * expression's split of each line cost more than the rest of the scan.
   */
  record ExecutableMapping(String key, String path) {
    /** The mapping on {@code line}, or null when it is not one of an existing file's executable pages. */
    static ExecutableMapping parse(String line) {
      int perms = skipSpaces(line, skipField(line, 0));
      int permsEnd = skipField(line, perms);
      int x = line.indexOf('x', perms);
      if (x < 0 || x >= permsEnd) {
        return null; // not executable
      }
      int offset = skipSpaces(line, permsEnd);
      int dev = skipSpaces(line, skipField(line, offset));
      int devEnd = skipField(line, dev);
      int inode = skipSpaces(line, devEnd);
      int inodeEnd = skipField(line, inode);
      int path = skipSpaces(line, inodeEnd);
      if (inode == inodeEnd || path >= line.length() || line.charAt(path) != '/' || line.endsWith(" (deleted)")) {
        return null; // anonymous, [vdso] and the like, or a file since replaced
      }
      return new ExecutableMapping(line.substring(dev, devEnd) + ":" + line.substring(inode, inodeEnd),
          line.substring(path));
    }

    private static int skipField(String line, int from) {
      int i = from;
      while (i < line.length() && line.charAt(i) != ' ' && line.charAt(i) != '\t') {
        i++;
      }
      return i;
    }

    private static int skipSpaces(String line, int from) {
      int i = from;
      while (i < line.length() && (line.charAt(i) == ' ' || line.charAt(i) == '\t')) {
        i++;
      }
      return i;
    }
  }

  /**
   * One probe of a library. A kernel without attach cookies refuses the first with EOPNOTSUPP; its
   * probes then go on without (they capture from the moment each is attached, as before 5.15).
   */
  private BpfLink attach(String program, String file, TlsProbeSites.Site site, boolean retprobe, long cookie) {
    try {
      return object.program(program).attachUprobe(-1, file, site.function(), site.offset(), retprobe, cookies ? cookie : 0);
    } catch (BpfException e) {
      if (!cookies || e.errno() != EOPNOTSUPP) {
        throw e;
      }
      cookies = false;
      LOG.log(System.Logger.Level.DEBUG, "no attach cookies in this kernel: TLS probes capture as each is attached");
      return object.program(program).attachUprobe(-1, file, site.function(), site.offset(), retprobe, 0);
    }
  }

  /** The attach sequence number of the last library whose probes carry one (0: none). */
  synchronized long attachSequence() {
    return attachSequence;
  }

  /**
   * Lets the probes of every library attached up to {@code sequence} capture (those of later ones
   * not); tests take it back to 0 to see that unarmed probes capture nothing.
   */
  synchronized void arm(long sequence) {
    Armed.set(object, Armed.TLS, sequence);
  }

  /** Attaches the probes of {@code file} if it defines SSL_read and SSL_write; false otherwise. */
  private boolean tryAttach(String key, String file, boolean pinned) {
    Analysis ahead = ANALYZED_AHEAD.remove(key);
    List<TlsProbeSites.Site> sites = ahead != null && ahead.file().equals(file) ? ahead.sites() : analyze(file);
    if (sites == null) {
      remember(key);
      return false;
    }
    List<BpfLink> links = new ArrayList<>();
    // the probes capture nothing until every one of them is in place (armed in maps.h)
    long cookie = cookies ? ++attachSequence : 0;
    try {
      for (TlsProbeSites.Site site : sites) {
        links.add(attach(site.entryProgram(), file, site, false, cookie));
        links.add(attach(site.returnProgram() + returnSuffix, file, site, true, cookie));
      }
      if (cookies) {
        arm(cookie);
      }
    } catch (BpfException e) {
      closeAll(links);
      refusals++;
      lastRefusal = e.summary();
      boolean denied = e.errno() == EACCES || e.errno() == EPERM;
      refusedForPrivilege = denied;
      LOG.log(System.Logger.Level.WARNING, "TLS library {0} could not be hooked: {1}{2}", file, e.summary(),
          denied && !Capabilities.current().has(Capabilities.CAP_SYS_ADMIN)
              ? " (this kernel wants CAP_SYS_ADMIN for uprobes: HTTPS through OpenSSL is not seen without it)" : "");
      remember(key);
      return false;
    }
    attached.put(key, new Attached(file, links, pinned));
    LOG.log(System.Logger.Level.DEBUG, "TLS library {0}: {1} probes at {2}", file, links.size(), sites);
    return true;
  }

  /** Up to {@code length} bytes of the file at {@code offset}; fewer at its end. */
  private static byte[] read(FileChannel channel, long offset, int length) throws IOException {
    ByteBuffer bytes = ByteBuffer.allocate(length);
    while (bytes.hasRemaining() && channel.read(bytes, offset + bytes.position()) > 0) {
      // until the end of the file
    }
    return java.util.Arrays.copyOf(bytes.array(), bytes.position());
  }

  private void remember(String key) {
    if (negative.size() >= MAX_NEGATIVE) {
      negative.clear();
    }
    negative.add(key);
  }

  private static String fileKey(Path file) {
    try {
      Object dev = Files.getAttribute(file, "unix:dev");
      Object ino = Files.getAttribute(file, "unix:ino");
      long d = ((Number) dev).longValue();
      // the same dev:inode text /proc/PID/maps shows: major:minor in hex, inode in decimal
      long major = ((d >>> 8) & 0xfff) | ((d >>> 32) & ~0xfffL);
      long minor = (d & 0xff) | ((d >>> 12) & ~0xffL);
      return String.format("%02x:%02x:%d", major, minor, ((Number) ino).longValue());
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  private static boolean isPid(String name) {
    if (name.isEmpty()) {
      return false;
    }
    for (int i = 0; i < name.length(); i++) {
      if (!Character.isDigit(name.charAt(i))) {
        return false;
      }
    }
    return true;
  }

  private static void closeAll(List<BpfLink> links) {
    for (int i = links.size() - 1; i >= 0; i--) {
      try {
        links.get(i).close();
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.DEBUG, "detach {0}: {1}", links.get(i).target(), e.getMessage());
      }
    }
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    attached.values().forEach(a -> closeAll(a.links()));
    attached.clear();
  }
}
