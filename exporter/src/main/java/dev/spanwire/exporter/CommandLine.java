package dev.spanwire.exporter;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * The {@code spanwire} command line: GNU-style flags ({@code --name=value}, {@code --name value},
 * {@code -o json}, {@code -ojson}, clustered {@code -hvV}), an optional subcommand after the
 * top-level flags, and the {@code --help} text. Written here rather than taken from a library:
 * the agent has a handful of string flags, and a command-line library's classes were about a
 * third of a second of every start (picocli's Java 5 class files cannot go into the JDK's AOT
 * cache, so they were loaded and verified each time).
 *
 * <p>Parsing is strict, as the exit codes promise: an unknown flag, a missing value, a flag given
 * twice or a stray argument is a {@link Error}, reported in one line with exit code 2.
 */
final class CommandLine {
  /** What a flag takes: nothing (a switch), a value, or a value that defaults to {@code true}. */
  enum Arity { NONE, VALUE, OPTIONAL_BOOLEAN }

  /**
   * One flag. {@code description} may hold {@code {default}}, replaced in the help by
   * {@code defaults} (reference.conf's value, read only when the help is printed).
   */
  record Flag(String shortName, String longName, String label, Arity arity, String description) {
    /** The flag's names as the help lists them, e.g. {@code -o, --output=FORMAT}. */
    String synopsis() {
      String value = switch (arity) {
        case NONE -> "";
        case VALUE -> "=" + label;
        case OPTIONAL_BOOLEAN -> "[=" + label + "]";
      };
      return (shortName == null ? "    " : shortName + ", ") + longName + value;
    }

    /** How a message names it: {@code '--pid' (PID)}, as the usage shows it. */
    String quoted() {
      return "'" + longName + "'" + (arity == Arity.NONE ? "" : " (" + label + ")");
    }
  }

  /** A command: its name, its flags in help order, and its subcommands (none for a subcommand). */
  record Command(String name, String description, List<Flag> flags, List<Command> subcommands, List<String> footer) {
    Optional<Flag> flag(String name) {
      return flags.stream().filter(f -> name.equals(f.longName) || name.equals(f.shortName)).findFirst();
    }

    Optional<Command> subcommand(String name) {
      return subcommands.stream().filter(c -> c.name.equals(name)).findFirst();
    }
  }

  /**
   * What a command line said: the command it chose, and each flag given with its value
   * ({@code "true"} for a switch or a boolean flag given alone), in command-line order.
   */
  record Parsed(Command command, Map<String, String> given) {
    boolean has(String longName) {
      return given.containsKey(longName);
    }

    String value(String longName) {
      return given.get(longName);
    }
  }

  /** A command line that cannot be run, with the message shown to the user. */
  static final class Error extends RuntimeException {
    Error(String message) {
      super(message);
    }
  }

  private CommandLine() {}

  /** Parses {@code args} for {@code root}; a subcommand's name switches to its flags. */
  static Parsed parse(Command root, String... args) {
    Command command = root;
    Map<String, String> given = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      if (arg.length() > 1 && arg.startsWith("-") && !arg.equals("--")) {
        i = flag(command, args, i, given);
      } else if (command == root && given.isEmpty() && root.subcommand(arg).isPresent()) {
        command = root.subcommand(arg).get();
      } else {
        throw new Error("Unmatched argument at index " + i + ": '" + arg + "'");
      }
    }
    return new Parsed(command, given);
  }

  /** Takes the flag at {@code args[i]} (and its value); returns the index of the last argument used. */
  private static int flag(Command command, String[] args, int i, Map<String, String> given) {
    String arg = args[i];
    String name;
    String inline;
    if (arg.startsWith("--")) {
      int equals = arg.indexOf('=');
      name = equals < 0 ? arg : arg.substring(0, equals);
      inline = equals < 0 ? null : arg.substring(equals + 1);
    } else {
      name = arg.substring(0, 2);
      inline = arg.length() > 2 ? arg.substring(arg.charAt(2) == '=' ? 3 : 2) : null;
      Flag first = command.flag(name).orElseThrow(() -> unknown(arg));
      if (first.arity == Arity.NONE && inline != null) {
        // a cluster of switches: -hvV
        for (char c : arg.substring(1).toCharArray()) {
          Flag each = command.flag("-" + c).filter(f -> f.arity == Arity.NONE).orElseThrow(() -> unknown(arg));
          given.put(each.longName, "true");
        }
        return i;
      }
    }
    Flag flag = command.flag(name).orElseThrow(() -> unknown(arg));
    String value;
    int last = i;
    switch (flag.arity) {
      case NONE -> {
        if (inline != null) {
          throw new Error("option " + flag.quoted() + " takes no value: '" + arg + "'");
        }
        value = "true";
      }
      case VALUE -> {
        if (inline != null) {
          value = inline;
        } else if (i + 1 < args.length && !isFlag(command, args[i + 1])) {
          value = args[++last];
        } else {
          throw new Error("Missing required parameter for option " + flag.quoted());
        }
      }
      case OPTIONAL_BOOLEAN -> {
        if (inline != null) {
          value = inline;
        } else if (i + 1 < args.length && isBoolean(args[i + 1])) {
          value = args[++last];
        } else {
          value = "true";
        }
      }
      default -> throw new AssertionError(flag.arity);
    }
    if (flag.arity != Arity.NONE && given.containsKey(flag.longName)) {
      throw new Error("option " + flag.quoted() + " should be specified only once");
    }
    given.put(flag.longName, value);
    return last;
  }

  private static boolean isFlag(Command command, String arg) {
    if (!arg.startsWith("-") || arg.length() < 2) {
      return false;
    }
    String name = arg.startsWith("--") ? arg.split("=", 2)[0] : arg.substring(0, 2);
    return command.flag(name).isPresent();
  }

  private static boolean isBoolean(String arg) {
    return arg.equalsIgnoreCase("true") || arg.equalsIgnoreCase("false");
  }

  private static Error unknown(String arg) {
    return new Error("Unknown option: '" + arg + "'");
  }

  /**
   * The help of {@code command}, wrapped at {@code width} columns: usage, description, the flags
   * with their defaults, the subcommands, the footer.
   */
  static String help(Command command, String commandPath, int width, Function<Flag, String> defaults) {
    StringBuilder out = new StringBuilder();
    StringBuilder usage = new StringBuilder("[OPTIONS]");
    if (!command.subcommands.isEmpty()) {
      usage.append(" [COMMAND]");
    }
    out.append("Usage: ").append(commandPath).append(' ').append(usage).append('\n');
    wrap(out, command.description, "", "", width);
    int column = 2 + command.flags.stream().mapToInt(f -> f.synopsis().length()).filter(n -> n <= 24).max().orElse(20) + 2;
    for (Flag flag : command.flags) {
      String names = "  " + flag.synopsis();
      String description = flag.description;
      if (description.contains("{default}")) {
        description = description.replace("{default}", defaults.apply(flag));
      }
      if (names.length() + 1 > column) {
        out.append(names).append('\n');
        wrap(out, description, " ".repeat(column), " ".repeat(column + 2), width);
      } else {
        wrap(out, names + " ".repeat(column - names.length()) + description, "", " ".repeat(column + 2), width);
      }
    }
    if (!command.subcommands.isEmpty()) {
      out.append("Commands:\n");
      int nameWidth = command.subcommands.stream().mapToInt(c -> c.name.length()).max().orElse(0);
      for (Command sub : command.subcommands) {
        String lead = "  " + sub.name + " ".repeat(nameWidth - sub.name.length() + 2);
        wrap(out, lead + sub.description, "", " ".repeat(lead.length() + 2), width);
      }
    }
    for (String line : command.footer) {
      wrap(out, line, "", "", width);
    }
    return out.toString();
  }

  /**
   * Appends {@code text} word-wrapped at {@code width}: the first line after {@code first}, the
   * rest after {@code rest}. A word longer than a line (a list of defaults) breaks after a comma.
   */
  private static void wrap(StringBuilder out, String text, String first, String rest, int width) {
    StringBuilder line = new StringBuilder(first);
    boolean atStart = true;
    for (String word : text.split(" ", -1)) {
      while (true) {
        int room = width - line.length() - (atStart ? 0 : 1);
        if (word.length() <= room || (atStart && room < 1)) {
          line.append(atStart ? "" : " ").append(word);
          atStart = false;
          break;
        }
        int cut = room < 1 ? 0 : word.lastIndexOf(',', room - 1) + 1;
        if (!atStart && (cut == 0 || word.length() <= width - rest.length())) {
          out.append(line).append('\n');
          line.setLength(0);
          line.append(rest);
          atStart = true;
          continue;
        }
        if (cut == 0) {
          cut = room;
        }
        line.append(atStart ? "" : " ").append(word, 0, cut);
        out.append(line).append('\n');
        line.setLength(0);
        line.append(rest);
        atStart = true;
        word = word.substring(cut);
      }
    }
    out.append(line).append('\n');
  }
}
