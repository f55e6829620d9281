package dev.baton.bpf;

import dev.baton.bpf.abi.AbiTypes;
import dev.baton.bpf.abi.Field;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A fingerprint of the kernel/user-space interface this build speaks: every struct of bpf/intf.h
 * with its size and each member's name, offset, size and type, and every enum with each enumerator's
 * value, as clang laid them out in baton.bpf.o (the generated {@code dev.baton.bpf.abi} classes).
 *
 * <p>Why: an agent may adopt a pinned scheduler that another build loaded (an upgrade's handover).
 * Comparing map sizes catches a structure that grew, not one whose members moved or an enum that
 * was renumbered, and then the agent would write hints, read counters and decode events at the
 * wrong places. The agent that loads a scheduler stores this value in its live state
 * ({@code baton_live.abi_fingerprint}); one that adopts compares it with its own.
 *
 * <p>A member's type is its kind and signedness with typedefs resolved ({@code u32}, {@code s32},
 * {@code enum baton_class:u32}), so a u32 that becomes an s32 in place is another interface, while
 * renaming a typedef is not. Limits: what a member means is not in it (a counter that starts to
 * count something else keeps its name and type); 64 bits of SHA-256, so two interfaces collide
 * with negligible odds. Never 0, which the live state holds until an agent stamps it.
 */
public final class Abi {
    /** This build's fingerprint. */
    public static final long FINGERPRINT = fingerprint(AbiTypes.STRUCTS, AbiTypes.ENUMS);

    private Abi() {}

    /**
     * The fingerprint of generated type classes: structs with {@code C_NAME}, {@code SIZEOF} and
     * {@code FIELDS}, enums with {@code C_NAME} and {@code VALUES}. Independent of list order.
     */
    static long fingerprint(List<Class<?>> structs, List<Class<?>> enums) {
        return hash(canonical(structs, enums));
    }

    /** One line per type (kind and C name first), sorted, so the text depends on the types alone. */
    static String canonical(List<Class<?>> structs, List<Class<?>> enums) {
        List<String> lines = new ArrayList<>();
        for (Class<?> s : structs) {
            StringBuilder line = new StringBuilder("struct ").append(constant(s, "C_NAME")).append(' ')
                    .append(constant(s, "SIZEOF")).append(" {");
            for (Object o : (List<?>) constant(s, "FIELDS")) {
                Field f = (Field) o;
                line.append(' ').append(f.name()).append('@').append(f.offset()).append(':').append(f.size())
                        .append(':').append(f.type());
            }
            lines.add(line.append(" }").toString());
        }
        for (Class<?> e : enums) {
            StringBuilder line = new StringBuilder("enum ").append(constant(e, "C_NAME")).append(" {");
            ((Map<?, ?>) constant(e, "VALUES")).forEach((k, v) -> line.append(' ').append(k).append('=').append(v));
            lines.add(line.append(" }").toString());
        }
        lines.sort(null);
        return String.join("\n", lines);
    }

    private static long hash(String text) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            long h = ByteBuffer.wrap(digest).getLong();
            return h != 0 ? h : 1;
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError("every JDK has SHA-256", e);
        }
    }

    private static Object constant(Class<?> type, String name) {
        try {
            return type.getField(name).get(null);
        } catch (ReflectiveOperationException e) {
            throw new IllegalArgumentException(type.getName() + " is not a generated ABI type: no " + name, e);
        }
    }
}
