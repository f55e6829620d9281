package dev.baton.bpf.abi;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.lang.foreign.StructLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Closes the ABI loop: the Java constants were generated from the BTF clang wrote for the BPF
 * program, and here bpf/intf.h, compiled by the host's C compiler, must give the same numbers. A
 * mismatch means the BPF and host views of intf.h differ (a type whose size depends on the target,
 * say), or the object is stale.
 */
class AbiLayoutTest {
    private static final Path INTF_H = Path.of(System.getProperty("baton.bpf.src", "../bpf"), "intf.h");
    private static final Pattern DEFINITION = Pattern.compile("\\b(struct|enum)\\s+(baton_\\w+)\\s*\\{");
    private static final Pattern COMMENT = Pattern.compile("/\\*.*?\\*/|//[^\\n]*", Pattern.DOTALL);

    @Test
    void everyBatonTypeInIntfHWasGenerated() throws IOException {
        var defined = definedInIntfH();
        var generated = generatedTypes();

        assertThat(generated)
                .as("types defined in %s but absent from the BTF of baton.bpf.o, so no Java class was"
                        + " generated: clang only emits types the program uses; add a member of each to"
                        + " baton_abi_anchor in bpf/baton.bpf.c", INTF_H)
                .containsAll(defined);
        assertThat(defined)
                .as("baton_ types in the BTF of baton.bpf.o that %s does not define: intf.h is the only"
                        + " definition of what crosses between kernel and Java; move them there", INTF_H)
                .containsAll(generated);
    }

    @Test
    void constantsMatchIntfHCompiledByTheHostCompiler(@TempDir Path tmp) throws Exception {
        // Only types intf.h defines: the coverage test above reports the others by name.
        var defined = definedInIntfH();
        var fromJava = new LinkedHashMap<String, Long>();
        var program = new StringBuilder("""
                #include <stddef.h>
                #include <stdio.h>
                #include "intf.h"

                int main(void)
                {
                """);
        for (var cls : AbiTypes.STRUCTS) {
            var c = cName(cls);
            if (!defined.contains("struct " + c)) {
                continue;
            }
            fromJava.put("sizeof " + c, constant(cls, "SIZEOF"));
            program.append("\tprintf(\"sizeof %s %%zu\\n\", sizeof(struct %<s));\n".formatted(c));
            for (var f : fields(cls)) {
                var member = c + "." + f.name();
                fromJava.put("offsetof " + member, constant(cls, upperSnake(f.name()) + "_OFFSET"));
                fromJava.put("sizeof " + member, constant(cls, upperSnake(f.name()) + "_SIZE"));
                program.append("\tprintf(\"offsetof %s %%zu\\n\", offsetof(struct %s, %s));\n".formatted(member, c, f.name()))
                        .append("\tprintf(\"sizeof %s %%zu\\n\", sizeof(((struct %s *)0)->%s));\n".formatted(member, c, f.name()));
            }
        }
        for (var cls : AbiTypes.ENUMS) {
            if (!defined.contains("enum " + cName(cls))) {
                continue;
            }
            for (var enumerator : values(cls).keySet()) {
                fromJava.put("enum " + enumerator, constant(cls, enumerator));
                program.append("\tprintf(\"enum %s %%lld\\n\", (long long)%<s);\n".formatted(enumerator));
            }
        }
        program.append("\treturn 0;\n}\n");
        assertThat(fromJava).as("nothing to compare: no generated type is defined in %s", INTF_H).isNotEmpty();

        var source = tmp.resolve("abi_layout.c");
        var binary = tmp.resolve("abi_layout");
        Files.writeString(source, program);
        var cc = hostCompiler();
        run(List.of(cc, "-std=gnu11", "-Wall", "-Werror", "-I", INTF_H.getParent().toString(),
                "-o", binary.toString(), source.toString()),
                "intf.h, compiled for the host, lacks a member or enumerator that the BPF build's BTF has");
        var fromC = new LinkedHashMap<String, Long>();
        for (var line : run(List.of(binary.toString()), "the layout program failed").split("\n")) {
            int space = line.lastIndexOf(' ');
            fromC.put(line.substring(0, space), Long.parseLong(line.substring(space + 1)));
        }

        var mismatches = new ArrayList<String>();
        fromJava.forEach((key, java) -> {
            if (!java.equals(fromC.get(key))) {
                mismatches.add(key + ": " + java + " in Java (from BTF), " + fromC.get(key) + " from " + cc);
            }
        });
        assertThat(mismatches)
                .as("%s compiled by the host disagrees with the layouts generated from baton.bpf.o's BTF"
                        + " (rebuild the object, or make the type the same for both targets)", INTF_H)
                .isEmpty();
        assertThat(fromC.keySet()).as("numbers printed by the C program").isEqualTo(fromJava.keySet());
    }

    @Test
    void structLayoutsAgreeWithTheirConstants() throws ReflectiveOperationException {
        for (var cls : AbiTypes.STRUCTS) {
            var layout = (StructLayout) cls.getMethod("layout").invoke(null);
            var sizeof = constant(cls, "SIZEOF");
            assertThat(layout.byteSize()).as("%s.layout().byteSize()", cls.getSimpleName()).isEqualTo(sizeof);
            var end = 0L;
            for (var f : fields(cls)) {
                var what = cls.getSimpleName() + "." + f.name();
                assertThat(f.offset()).as("%s offset", what).isEqualTo(constant(cls, upperSnake(f.name()) + "_OFFSET"))
                        .isEqualTo(layout.byteOffset(groupElement(f.name())))
                        .isGreaterThanOrEqualTo(end);
                assertThat(f.size()).as("%s size", what).isEqualTo(constant(cls, upperSnake(f.name()) + "_SIZE"))
                        .isEqualTo(layout.select(groupElement(f.name())).byteSize());
                end = f.offset() + f.size();
            }
            assertThat(end).as("%s: members end within SIZEOF", cls.getSimpleName()).isLessThanOrEqualTo(sizeof);
        }
    }

    @Test
    void enumValuesAgreeWithTheirConstants() {
        for (var cls : AbiTypes.ENUMS) {
            var values = values(cls);
            assertThat(values).as("%s.VALUES", cls.getSimpleName()).isNotEmpty();
            values.forEach((name, value) -> assertThat(constant(cls, name)).as("%s.%s", cls.getSimpleName(), name).isEqualTo(value));
        }
    }

    /** "struct baton_x" and "enum baton_y" for each definition in intf.h (comments ignored). */
    private static Set<String> definedInIntfH() throws IOException {
        var text = COMMENT.matcher(Files.readString(INTF_H)).replaceAll(" ");
        var types = new TreeSet<String>();
        var m = DEFINITION.matcher(text);
        while (m.find()) {
            types.add(m.group(1) + " " + m.group(2));
        }
        assertThat(types).as("no struct baton_* or enum baton_* definitions found in %s", INTF_H).isNotEmpty();
        return types;
    }

    private static Set<String> generatedTypes() {
        var types = new TreeSet<String>();
        AbiTypes.STRUCTS.forEach(c -> types.add("struct " + cName(c)));
        AbiTypes.ENUMS.forEach(c -> types.add("enum " + cName(c)));
        return types;
    }

    private static String cName(Class<?> cls) {
        return (String) staticField(cls, "C_NAME");
    }

    @SuppressWarnings("unchecked") // the generator declares FIELDS as List<Field>
    private static List<Field> fields(Class<?> cls) {
        return (List<Field>) staticField(cls, "FIELDS");
    }

    @SuppressWarnings("unchecked") // the generator declares VALUES as Map<String, Long>
    private static Map<String, Long> values(Class<?> cls) {
        return (Map<String, Long>) staticField(cls, "VALUES");
    }

    /** A generated int or long constant, widened to long. */
    private static long constant(Class<?> cls, String name) {
        return ((Number) staticField(cls, name)).longValue();
    }

    private static Object staticField(Class<?> cls, String name) {
        try {
            return cls.getField(name).get(null);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(cls.getName() + " has no public constant " + name, e);
        }
    }

    /** Must match AbiGen.upperSnake: ts_ns -> TS_NS, camelCase -> CAMEL_CASE. */
    private static String upperSnake(String name) {
        return name.replaceAll("([a-z0-9])([A-Z])", "$1_$2").toUpperCase(Locale.ROOT);
    }

    private static String hostCompiler() {
        var path = System.getenv().getOrDefault("PATH", "").split(File.pathSeparator);
        for (var name : List.of("cc", "gcc")) {
            var found = Stream.of(path).map(dir -> Path.of(dir.isEmpty() ? "." : dir, name))
                    .filter(Files::isExecutable).findFirst();
            if (found.isPresent()) {
                return found.get().toString();
            }
        }
        throw new AssertionError("no host C compiler (cc or gcc) on PATH: it is needed to check bpf/intf.h");
    }

    /** Runs a command, returning its output; fails the test with the hint and that output if it fails. */
    private static String run(List<String> command, String hint) throws IOException, InterruptedException {
        var process = new ProcessBuilder(command).redirectErrorStream(true).start();
        process.getOutputStream().close();
        var out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError(String.join(" ", command) + ": timed out");
        }
        if (process.exitValue() != 0) {
            throw new AssertionError(hint + ": " + String.join(" ", command) + " exited with " + process.exitValue() + ":\n" + out);
        }
        return out;
    }
}
