/*
 * Generates the Java side of the kernel/user-space ABI from the BTF that clang wrote into the BPF
 * object, so Java never hand-types an offset: whatever clang laid out for the BPF program is what
 * Java reads. AbiLayoutTest then checks the result against bpf/intf.h compiled by the host's C
 * compiler, which closes the loop (intf.h -> BTF -> Java <- intf.h).
 *
 * Usage: java AbiGen.java <bpf-object> <out-dir> [<package> <shared-header>]
 *
 * Writes into <out-dir>/dev/baton/bpf/abi/ (or the package given, for a test program's own shared
 * header, e.g. a benchmark's):
 *   - one class per `struct baton_*`: SIZEOF, <MEMBER>_OFFSET/_SIZE, FIELDS and a StructLayout;
 *   - one class per `enum baton_*`: a constant per enumerator and the ordered VALUES map;
 *   - one class per kernel enum in KERNEL_ENUMS (e.g. ScxExitKind), the same way;
 *   - one class per kernel struct in KERNEL_STRUCTS (e.g. SchedExtOps), the same way as for
 *     intf.h structs, with the layout the object was compiled against (libbpf translates it to
 *     the running kernel's by member name);
 *   - one such class per custom data section .data.NAME (e.g. DataLive for .data.live);
 *   - Field (the record FIELDS lists) and AbiTypes (the generated type classes, for the test).
 *
 * The BTF comes from `bpftool btf dump file <obj> format raw -j`: bpftool already knows every BTF
 * encoding, so this program only needs a small JSON parser rather than an ELF and BTF reader.
 */
import java.io.File;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

public final class AbiGen {
    static final String PKG = "dev.baton.bpf.abi";
    static final String INTF_H = "bpf/intf.h";
    static final String PREFIX = "baton_";
    /**
     * Kernel enums the agent needs by value (the exit kinds it reports, the exit code's restart
     * request), taken from the same BTF so their values are the kernel's. Not intf.h types, so
     * AbiTypes does not list them.
     */
    static final Set<String> KERNEL_ENUMS = Set.of("scx_exit_kind", "scx_exit_code");
    /**
     * Kernel structs whose fields Java sets in the object before load: sched_ext_ops carries
     * timeout_ms in the struct_ops map's initial value. Not intf.h types either.
     */
    static final Set<String> KERNEL_STRUCTS = Set.of("sched_ext_ops");

    /** A failure the user can act on; main prints its message and exits non-zero. */
    static final class Fail extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Fail(String message) {
            super(message);
        }
    }

    public static void main(String[] args) {
        try {
            if (args.length != 2 && args.length != 4) {
                throw new Fail("usage: java AbiGen.java <bpf-object> <out-dir> [<package> <shared-header>]");
            }
            run(Path.of(args[0]), Path.of(args[1]), args.length == 4 ? args[2] : PKG, args.length == 4 ? args[3] : INTF_H);
        } catch (Fail e) {
            System.err.println("AbiGen: " + e.getMessage());
            System.exit(1);
        } catch (Exception e) {
            System.err.println("AbiGen: " + e);
            e.printStackTrace();
            System.exit(1);
        }
    }

    static void run(Path object, Path outDir, String pkg, String sharedHeader) throws IOException, InterruptedException {
        if (!Files.isRegularFile(object)) {
            throw new Fail(object + ": no such BPF object (build it with `make -C bpf`)");
        }
        var btf = new Btf(Json.parse(dumpBtf(object)));
        // The file name, not the path: the output must not depend on where the checkout lives.
        var header = "// Generated from " + object.getFileName() + " by AbiGen, do not edit.\n"
                + "package " + pkg + ";\n\n";

        var sources = new TreeMap<String, String>();
        var structs = new TreeMap<String, String>(); // C name -> class name, sorted for stable output
        var enums = new TreeMap<String, String>();
        for (var t : btf.types) {
            var name = Btf.name(t);
            if (KERNEL_ENUMS.contains(name) && Btf.str(t, "kind").startsWith("ENUM")) {
                sources.put(className(name), header
                        + enumClass(t, className(name)).replace("from bpf/intf.h", "from the kernel's BTF"));
                continue;
            }
            if (KERNEL_STRUCTS.contains(name) && Btf.str(t, "kind").equals("STRUCT")) {
                sources.put(className(name), header + structClass(btf, t, className(name))
                        .replace("from bpf/intf.h, as clang laid it out for the BPF program",
                                "from the kernel's BTF, as the object was compiled against it"));
                continue;
            }
            if (!name.startsWith(PREFIX)) {
                continue;
            }
            var kind = Btf.str(t, "kind");
            var target = switch (kind) {
                case "STRUCT" -> structs;
                case "ENUM", "ENUM64" -> enums;
                case "UNION" -> throw new Fail("union " + name + ": only structs and enums may cross the ABI");
                default -> null; // functions, variables, forward declarations: not ABI types
            };
            if (target == null) {
                continue;
            }
            var cls = className(name);
            if (structs.containsValue(cls) || enums.containsValue(cls)) {
                throw new Fail(kind + " " + name + ": a type named " + cls + " was already generated");
            }
            target.put(name, cls);
            sources.put(cls, header + (target == structs ? structClass(btf, t, cls) : enumClass(t, cls))
                    .replace("from " + INTF_H, "from " + sharedHeader));
        }
        for (var t : btf.types) {
            var section = Btf.name(t);
            if (Btf.str(t, "kind").equals("DATASEC") && section.startsWith(".data.")) {
                var cls = "Data" + className(section.substring(".data.".length()));
                if (sources.containsKey(cls)) {
                    throw new Fail("section " + section + ": a class named " + cls + " was already generated");
                }
                sources.put(cls, header + sectionClass(btf, section, cls,
                        "The globals of the BPF program in section " + section + ", a map that libbpf maps into\n"
                                + " * this process: Java writes them before load and while the program runs."));
            }
        }
        sources.put("Field", header + """
                /**
                 * One member of a generated struct, or one variable of a data section: its byte offset and
                 * size, and its type with typedefs resolved ({@code u32}, {@code s64}, {@code u8[16]},
                 * {@code enum baton_class:u32}, {@code struct baton_x}, {@code ptr}).
                 */
                public record Field(String name, long offset, long size, String type) {}
                """);
        sources.put("AbiTypes", header + abiTypesClass(structs.values(), enums.values()));
        write(outDir.resolve(pkg.replace('.', File.separatorChar)), sources);
    }

    // ---- bpftool ------------------------------------------------------------------------------

    static String dumpBtf(Path object) throws IOException, InterruptedException {
        var command = List.of(bpftool(), "btf", "dump", "file", object.toString(), "format", "raw", "-j");
        var process = new ProcessBuilder(command)
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        process.getOutputStream().close();
        // Read before waiting: the dump is larger than a pipe buffer.
        var out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new Fail(String.join(" ", command) + ": timed out");
        }
        if (process.exitValue() != 0) {
            // With -j, bpftool reports its errors as JSON on stdout.
            throw new Fail(String.join(" ", command) + " exited with " + process.exitValue() + ": " + out.strip());
        }
        return out;
    }

    static String bpftool() {
        var dirs = new ArrayList<String>(List.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)));
        dirs.addAll(List.of("/usr/sbin", "/sbin", "/usr/local/sbin")); // often not on a user's PATH
        for (var dir : dirs) {
            var candidate = Path.of(dir.isEmpty() ? "." : dir, "bpftool");
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return candidate.toString();
            }
        }
        throw new Fail("bpftool not found on PATH or in /usr/sbin: install bpftool (linux-tools) to generate the ABI layouts");
    }

    // ---- BTF ----------------------------------------------------------------------------------

    /** The BTF types of one object, as bpftool prints them: JSON objects keyed by field name. */
    static final class Btf {
        final List<Map<String, Object>> types;
        final Map<Long, Map<String, Object>> byId = new LinkedHashMap<>();

        Btf(Object json) {
            if (!(json instanceof Map<?, ?> root) || !(root.get("types") instanceof List<?> list)) {
                throw new Fail("bpftool output has no \"types\" array");
            }
            types = list.stream().map(Btf::obj).toList();
            types.forEach(t -> byId.put(num(t, "id"), t));
        }

        Map<String, Object> type(long id) {
            var t = byId.get(id);
            if (t == null) {
                throw new Fail("BTF type id " + id + " does not exist" + (id == 0 ? " (void)" : ""));
            }
            return t;
        }

        /** Skips what does not change the layout: typedef, const, volatile, restrict, type tags. */
        Map<String, Object> resolve(long id) {
            var t = type(id);
            while (Set.of("TYPEDEF", "CONST", "VOLATILE", "RESTRICT", "TYPE_TAG").contains(str(t, "kind"))) {
                t = type(num(t, "type_id"));
            }
            return t;
        }

        /** The FFM layout of a member type, as Java source, with its size and alignment. */
        record Layout(String expr, long size, long align) {}

        Layout layout(long id, String where) {
            var t = resolve(id);
            var kind = str(t, "kind");
            return switch (kind) {
                case "INT", "ENUM", "ENUM64", "FLOAT" -> {
                    var size = num(t, "size");
                    // A non-kflag BTF bitfield is an INT narrower than its storage unit.
                    if (kind.equals("INT") && (num(t, "nr_bits") != size * 8 || num(t, "bits_offset") != 0)) {
                        throw new Fail(where + ": bitfields cannot cross the ABI; use a whole fixed-width integer");
                    }
                    var java = kind.equals("FLOAT")
                            ? switch ((int) size) { case 4 -> "JAVA_FLOAT"; case 8 -> "JAVA_DOUBLE"; default -> null; }
                            : switch ((int) size) { case 1 -> "JAVA_BYTE"; case 2 -> "JAVA_SHORT"; case 4 -> "JAVA_INT"; case 8 -> "JAVA_LONG"; default -> null; };
                    if (java == null) {
                        throw new Fail(where + ": no Java layout for a " + size + "-byte " + kind);
                    }
                    yield new Layout("ValueLayout." + java, size, size);
                }
                // A kernel address: opaque to Java, but it still occupies 8 bytes in the record.
                case "PTR" -> new Layout("ValueLayout.JAVA_LONG", 8, 8);
                case "ARRAY" -> {
                    var elem = layout(num(t, "type_id"), where + "[]");
                    var n = num(t, "nr_elems");
                    yield new Layout("MemoryLayout.sequenceLayout(" + n + ", " + elem.expr + ")", n * elem.size, elem.align);
                }
                case "STRUCT" -> {
                    var nested = name(t);
                    if (!nested.startsWith(PREFIX)) {
                        throw new Fail(where + ": " + (nested.isEmpty() ? "an anonymous struct" : "struct " + nested)
                                + " is not an ABI type; nest only named baton_ structs from intf.h");
                    }
                    long align = 1;
                    for (var m : list(t, "members")) {
                        align = Math.max(align, layout(num(m, "type_id"), nested + "." + name(m)).align);
                    }
                    yield new Layout(className(nested) + ".layout()", num(t, "size"), align);
                }
                default -> throw new Fail(where + ": a " + kind + " cannot cross the ABI"
                        + " (intf.h allows fixed-width integers, enums, arrays and baton_ structs)");
            };
        }

        /**
         * A member's type as the fingerprint sees it, typedefs and qualifiers resolved: {@code s32},
         * {@code u64}, {@code enum baton_class:u32}, {@code u8[16]}, {@code struct baton_x}, {@code ptr}.
         * What it adds to offset and size is the signedness and the kind, so a u32 that becomes an
         * s32 (same place, same size, other values) is another interface.
         */
        String typeName(long id) {
            var t = resolve(id);
            var kind = str(t, "kind");
            return switch (kind) {
                case "INT" -> switch (str(t, "encoding")) {
                    case "SIGNED" -> "s";
                    case "BOOL" -> "bool";
                    case "CHAR" -> "char";
                    default -> "u";
                } + num(t, "size") * 8;
                case "FLOAT" -> "f" + num(t, "size") * 8;
                case "ENUM", "ENUM64" -> ("enum " + name(t)).strip() + ":" + (str(t, "encoding").equals("SIGNED") ? "s" : "u")
                        + num(t, "size") * 8;
                case "PTR" -> "ptr";
                case "ARRAY" -> typeName(num(t, "type_id")) + "[" + num(t, "nr_elems") + "]";
                case "STRUCT", "UNION" -> (kind.toLowerCase(Locale.ROOT) + " " + name(t)).strip();
                default -> kind.toLowerCase(Locale.ROOT);
            };
        }

        static Map<String, Object> obj(Object o) {
            if (o instanceof Map<?, ?> m) {
                @SuppressWarnings("unchecked") // Json builds every object as a Map<String, Object>
                var typed = (Map<String, Object>) m;
                return typed;
            }
            throw new Fail("unexpected bpftool output: expected an object, got " + o);
        }

        static String str(Map<String, Object> t, String key) {
            return t.get(key) instanceof String s ? s : "";
        }

        /** The name of a type, member or variable; "" when anonymous, which bpftool prints as "(anon)". */
        static String name(Map<String, Object> t) {
            var name = str(t, "name");
            return name.equals("(anon)") ? "" : name;
        }

        static long num(Map<String, Object> t, String key) {
            if (t.get(key) instanceof Long n) {
                return n;
            }
            throw new Fail("unexpected bpftool output: no integer \"" + key + "\" in " + t);
        }

        static List<Map<String, Object>> list(Map<String, Object> t, String key) {
            return t.get(key) instanceof List<?> l ? l.stream().map(Btf::obj).toList() : List.of();
        }
    }

    // ---- code generation ----------------------------------------------------------------------

    static String structClass(Btf btf, Map<String, Object> t, String cls) {
        var name = Btf.name(t);
        var sizeof = Btf.num(t, "size");
        var constants = new StringBuilder();
        var fields = new ArrayList<String>();
        var layouts = new ArrayList<String>();
        var names = new HashSet<String>(List.of("C_NAME", "SIZEOF", "FIELDS"));
        long cursor = 0;
        for (var m : Btf.list(t, "members")) {
            var member = Btf.name(m);
            var where = "struct " + name + "." + member;
            if (member.isEmpty()) {
                throw new Fail("struct " + name + ": anonymous members cannot cross the ABI; name them");
            }
            long bits = Btf.num(m, "bits_offset");
            if (m.containsKey("bitfield_size") || bits % 8 != 0) {
                throw new Fail(where + ": bitfields cannot cross the ABI; use a whole fixed-width integer");
            }
            long offset = bits / 8;
            var layout = btf.layout(Btf.num(m, "type_id"), where);
            if (offset < cursor) {
                throw new Fail(where + ": overlaps the previous member at offset " + offset);
            }
            // FFM rejects under-aligned members, and intf.h asks for explicit, natural padding.
            if (offset % layout.align != 0) {
                throw new Fail(where + ": offset " + offset + " is not " + layout.align + "-byte aligned"
                        + " (packed structs cannot cross the ABI; pad explicitly)");
            }
            if (offset > cursor) {
                layouts.add("MemoryLayout.paddingLayout(" + (offset - cursor) + ")");
            }
            layouts.add(layout.expr + ".withName(\"" + member + "\")");
            cursor = offset + layout.size;

            var constant = upperSnake(member);
            for (var suffix : List.of("_OFFSET", "_SIZE")) {
                if (!names.add(constant + suffix)) {
                    throw new Fail(where + ": constant " + constant + suffix + " would be generated twice");
                }
            }
            constants.append("    public static final long ").append(constant).append("_OFFSET = ").append(offset).append(";\n")
                    .append("    public static final long ").append(constant).append("_SIZE = ").append(layout.size).append(";\n");
            fields.add("new Field(\"" + member + "\", " + constant + "_OFFSET, " + constant + "_SIZE, \""
                    + btf.typeName(Btf.num(m, "type_id")) + "\")");
        }
        if (cursor > sizeof) {
            throw new Fail("struct " + name + ": members end at " + cursor + ", past its size " + sizeof);
        }
        if (cursor < sizeof) {
            layouts.add("MemoryLayout.paddingLayout(" + (sizeof - cursor) + ")");
        }
        return """
                import java.lang.foreign.MemoryLayout;
                import java.lang.foreign.StructLayout;
                import java.lang.foreign.ValueLayout;
                import java.util.List;

                /**
                 * {@code struct %1$s} from bpf/intf.h, as clang laid it out for the BPF program. Value
                 * layouts are in native byte order: clang's {@code -target bpf} is the host's endianness.
                 */
                public final class %2$s {
                    private %2$s() {}

                    public static final String C_NAME = "%1$s";
                    public static final long SIZEOF = %3$d;

                %4$s
                    /** The members in declaration order. */
                    public static final List<Field> FIELDS = List.of(%5$s);

                    private static final StructLayout LAYOUT = MemoryLayout.structLayout(%6$s).withName("%1$s");

                    public static StructLayout layout() {
                        return LAYOUT;
                    }
                }
                """.formatted(name, cls, sizeof, constants, argList(fields), argList(layouts));
    }

    static String enumClass(Map<String, Object> t, String cls) {
        var name = Btf.name(t);
        var constants = new StringBuilder();
        var puts = new StringBuilder();
        var names = new HashSet<String>(List.of("C_NAME", "VALUES"));
        for (var v : Btf.list(t, "values")) {
            var enumerator = Btf.name(v);
            long value = Btf.num(v, "val"); // a u64 above Long.MAX_VALUE arrives as its two's-complement bits
            if (!names.add(enumerator)) {
                throw new Fail("enum " + name + ": constant " + enumerator + " would be generated twice");
            }
            // int for 32-bit enums where the value fits, so the constants work in switches and int
            // fields; long for 64-bit enums and for unsigned 32-bit values above Integer.MAX_VALUE.
            var fitsInt = Btf.str(t, "kind").equals("ENUM") && value == (int) value;
            constants.append("    public static final ").append(fitsInt ? "int " : "long ").append(enumerator)
                    .append(" = ").append(value).append(fitsInt ? "" : "L").append(";\n");
            puts.append("        values.put(\"").append(enumerator).append("\", ").append(value).append("L);\n");
        }
        return """
                import java.util.Collections;
                import java.util.LinkedHashMap;
                import java.util.Map;

                /** {@code enum %1$s} from bpf/intf.h, with the values clang gave its enumerators. */
                public final class %2$s {
                    private %2$s() {}

                    public static final String C_NAME = "%1$s";

                %3$s
                    /** Every enumerator by its C name, in declaration order. */
                    public static final Map<String, Long> VALUES;

                    static {
                        var values = new LinkedHashMap<String, Long>();
                %4$s        VALUES = Collections.unmodifiableSequencedMap(values);
                    }
                }
                """.formatted(name, cls, constants, puts);
    }

    /** Offsets of the variables in one data section; an absent section gives an empty class. */
    static String sectionClass(Btf btf, String section, String cls, String javadoc) {
        var constants = new StringBuilder();
        var fields = new ArrayList<String>();
        var names = new HashSet<String>(List.of("FIELDS"));
        var datasec = btf.types.stream()
                .filter(t -> Btf.str(t, "kind").equals("DATASEC") && Btf.name(t).equals(section))
                .findFirst();
        for (var v : datasec.map(d -> Btf.list(d, "vars")).orElse(List.of())) {
            var decl = btf.type(Btf.num(v, "type_id"));
            var variable = Btf.name(decl);
            var constant = upperSnake(variable);
            if (!names.add(constant + "_OFFSET") || !names.add(constant + "_SIZE")) {
                throw new Fail(section + " " + variable + ": constant " + constant + "_OFFSET would be generated twice");
            }
            constants.append("    public static final long ").append(constant).append("_OFFSET = ").append(Btf.num(v, "offset")).append(";\n")
                    .append("    public static final long ").append(constant).append("_SIZE = ").append(Btf.num(v, "size")).append(";\n");
            fields.add("new Field(\"" + variable + "\", " + constant + "_OFFSET, " + constant + "_SIZE, \""
                    + btf.typeName(Btf.num(decl, "type_id")) + "\")");
        }
        return """
                import java.util.List;

                /**
                 * %s
                 */
                public final class %s {
                    private %2$s() {}

                %s
                    /** The variables in section order. */
                    public static final List<Field> FIELDS = List.of(%s);
                }
                """.formatted(javadoc, cls, constants, argList(fields));
    }

    static String abiTypesClass(Iterable<String> structs, Iterable<String> enums) {
        return """
                import java.util.List;

                /** Every generated ABI type class, so tests can check them all without naming them. */
                public final class AbiTypes {
                    private AbiTypes() {}

                    public static final List<Class<?>> STRUCTS = List.of(%s);
                    public static final List<Class<?>> ENUMS = List.of(%s);
                }
                """.formatted(argList(classLiterals(structs)), argList(classLiterals(enums)));
    }

    static List<String> classLiterals(Iterable<String> classes) {
        var literals = new ArrayList<String>();
        classes.forEach(c -> literals.add(c + ".class"));
        return literals;
    }

    /** Call arguments, one per line, indented for a call at class-member level. */
    static String argList(List<String> args) {
        return args.isEmpty() ? "" : "\n            " + String.join(",\n            ", args);
    }

    /** baton_task_event -> BatonTaskEvent */
    static String className(String cName) {
        var sb = new StringBuilder();
        for (var part : cName.split("_")) {
            if (!part.isEmpty()) {
                sb.append(Character.toUpperCase(part.charAt(0))).append(part.substring(1));
            }
        }
        return sb.toString();
    }

    /** ts_ns -> TS_NS, and camelCase -> CAMEL_CASE; AbiLayoutTest relies on the same rule. */
    static String upperSnake(String name) {
        return name.replaceAll("([a-z0-9])([A-Z])", "$1_$2").toUpperCase(Locale.ROOT);
    }

    /** Rewrites only changed files, so an unchanged ABI does not trigger recompilation. */
    static void write(Path dir, Map<String, String> sources) throws IOException {
        Files.createDirectories(dir);
        for (var e : sources.entrySet()) {
            var file = dir.resolve(e.getKey() + ".java");
            var bytes = e.getValue().getBytes(StandardCharsets.UTF_8);
            if (!Files.exists(file) || !java.util.Arrays.equals(Files.readAllBytes(file), bytes)) {
                Files.write(file, bytes);
            }
        }
        // Classes of types removed from intf.h must go too, or they would compile on unnoticed.
        try (Stream<Path> existing = Files.list(dir)) {
            for (var file : existing.toList()) {
                var name = file.getFileName().toString();
                if (name.endsWith(".java") && !sources.containsKey(name.substring(0, name.length() - 5))) {
                    Files.delete(file);
                }
            }
        }
    }

    // ---- JSON ---------------------------------------------------------------------------------

    /**
     * Just enough JSON for bpftool: objects become LinkedHashMaps (key order kept), arrays Lists,
     * integers Long (a u64 above Long.MAX_VALUE keeps its bits), other numbers Double.
     */
    static final class Json {
        private final String s;
        private int i;

        private Json(String s) {
            this.s = s;
        }

        static Object parse(String text) {
            var json = new Json(text);
            var value = json.value();
            json.skipSpace();
            if (json.i != text.length()) {
                throw json.error("trailing characters");
            }
            return value;
        }

        private Object value() {
            skipSpace();
            if (i >= s.length()) {
                throw error("unexpected end of input");
            }
            return switch (s.charAt(i)) {
                case '{' -> object();
                case '[' -> array();
                case '"' -> string();
                case 't' -> literal("true", Boolean.TRUE);
                case 'f' -> literal("false", Boolean.FALSE);
                case 'n' -> literal("null", null);
                default -> number();
            };
        }

        private Map<String, Object> object() {
            var map = new LinkedHashMap<String, Object>();
            i++;
            skipSpace();
            if (accept('}')) {
                return map;
            }
            do {
                skipSpace();
                var key = string();
                skipSpace();
                expect(':');
                map.put(key, value());
                skipSpace();
            } while (accept(','));
            expect('}');
            return map;
        }

        private List<Object> array() {
            var list = new ArrayList<Object>();
            i++;
            skipSpace();
            if (accept(']')) {
                return list;
            }
            do {
                list.add(value());
                skipSpace();
            } while (accept(','));
            expect(']');
            return list;
        }

        private String string() {
            expect('"');
            var sb = new StringBuilder();
            while (true) {
                if (i >= s.length()) {
                    throw error("unterminated string");
                }
                char c = s.charAt(i++);
                if (c == '"') {
                    return sb.toString();
                }
                if (c != '\\') {
                    sb.append(c);
                    continue;
                }
                if (i >= s.length()) {
                    throw error("unterminated string");
                }
                char e = s.charAt(i++);
                switch (e) {
                    case '"', '\\', '/' -> sb.append(e);
                    case 'b' -> sb.append('\b');
                    case 'f' -> sb.append('\f');
                    case 'n' -> sb.append('\n');
                    case 'r' -> sb.append('\r');
                    case 't' -> sb.append('\t');
                    case 'u' -> {
                        if (i + 4 > s.length()) {
                            throw error("truncated \\u escape");
                        }
                        sb.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                        i += 4;
                    }
                    default -> throw error("bad escape \\" + e);
                }
            }
        }

        private Object number() {
            int start = i;
            while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) {
                i++;
            }
            var text = s.substring(start, i);
            try {
                if (!text.matches("-?\\d+")) {
                    return Double.parseDouble(text);
                }
                var n = new BigInteger(text);
                if (n.bitLength() > (n.signum() < 0 ? 63 : 64)) {
                    throw error("integer out of 64-bit range: " + text);
                }
                return n.longValue();
            } catch (NumberFormatException e) {
                i = start;
                throw error("unexpected character");
            }
        }

        private Object literal(String word, Object value) {
            if (!s.startsWith(word, i)) {
                throw error("unexpected character");
            }
            i += word.length();
            return value;
        }

        private void skipSpace() {
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
        }

        private boolean accept(char c) {
            if (i < s.length() && s.charAt(i) == c) {
                i++;
                return true;
            }
            return false;
        }

        private void expect(char c) {
            if (!accept(c)) {
                throw error("expected '" + c + "'");
            }
        }

        private Fail error(String what) {
            var near = s.substring(i, Math.min(s.length(), i + 40));
            return new Fail("cannot parse bpftool's JSON at offset " + i + ": " + what + " near \"" + near + "\"");
        }
    }
}
