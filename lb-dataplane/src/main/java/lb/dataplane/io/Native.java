package lb.dataplane.io;

import jnr.ffi.LibraryLoader;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;

/**
 * The loaded libc binding, its jnr runtime, errno access and small off-heap scratch areas that are
 * visible both as an Agrona buffer (to write structs with named offsets) and as a jnr {@link Pointer}
 * (to pass them to a call).
 */
public final class Native
{
    /** The libc binding, loaded once per class loader. */
    public static final LibC LIBC = LibraryLoader.create(LibC.class)
        .map("sendtoNoErrno", "sendto")
        .load("c");

    /** The jnr runtime the binding was loaded in. */
    public static final Runtime RUNTIME = Runtime.getRuntime(LIBC);

    private Native()
    {
    }

    /**
     * The errno saved by the last {@code @SaveError} call on this thread.
     *
     * @return errno value.
     */
    public static int errno()
    {
        return RUNTIME.getLastError();
    }

    /**
     * The text of an errno value, as {@code strerror} gives it.
     *
     * @param errno the value.
     * @return its text, e.g. "No such device".
     */
    public static String strerror(final int errno)
    {
        final String text = LIBC.strerror(errno);
        return null != text ? text : "errno " + errno;
    }

    /** An off-heap scratch area, 64-byte aligned, with an Agrona view and a jnr pointer on it. */
    public static final class Scratch
    {
        /** Keeps the off-heap memory reachable as long as the views on it are. */
        private final ByteBuffer memory;
        /** Agrona view of the area: write structs with it, native byte order. */
        public final UnsafeBuffer buffer;
        /** The same bytes as a jnr pointer, to pass to a call. */
        public final Pointer pointer;

        /**
         * Allocate a scratch area.
         *
         * @param length bytes.
         */
        public Scratch(final int length)
        {
            memory = BufferUtil.allocateDirectAligned(Math.max(64, org.agrona.BitUtil.align(length, 64)), 64);
            buffer = new UnsafeBuffer(memory);
            pointer = Pointer.wrap(RUNTIME, buffer.addressOffset(), buffer.capacity());
        }

        /**
         * Pointer to a position inside the area.
         *
         * @param offset bytes from the start.
         * @return a pointer, allocated: for setup paths only.
         */
        public Pointer at(final int offset)
        {
            return Pointer.wrap(RUNTIME, buffer.addressOffset() + offset, buffer.capacity() - offset);
        }
    }
}
