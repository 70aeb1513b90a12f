package lb.dataplane.packet;

import java.util.Arrays;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * A frame placed for fuzzing: its last byte is the buffer's last, so Agrona's bounds checks throw
 * on any read or write past the frame, and {@link #GUARD_LENGTH} guard bytes sit in front of it,
 * so a write before the frame shows as a changed guard. Reads before the frame stay invisible;
 * the frame's own offset is what code under test gets, and nothing in lb reads backwards.
 */
public final class GuardedFrame
{
    /** Bytes in front of the frame, which must be unchanged after the code under test ran. */
    public static final int GUARD_LENGTH = 64;
    /** The largest frame: a jumbo frame with two VLAN tags, beyond what lb's rings hand over. */
    public static final int MAX_FRAME_LENGTH = 9_216;
    private static final byte GUARD_BYTE = (byte)0xA5;

    private final byte[] bytes = new byte[GUARD_LENGTH + MAX_FRAME_LENGTH];
    private final UnsafeBuffer buffer = new UnsafeBuffer(bytes);
    private int length;

    public GuardedFrame()
    {
        if (!DirectBuffer.SHOULD_BOUNDS_CHECK)
        {
            throw new IllegalStateException(
                "Agrona bounds checks are off (" + DirectBuffer.DISABLE_BOUNDS_CHECKS_PROP_NAME + "): the fuzz tests rely on them");
        }
        Arrays.fill(bytes, 0, GUARD_LENGTH, GUARD_BYTE);
    }

    /** Copies {@code length} bytes of {@code source} in as the frame; returns the buffer, which ends with it. */
    public UnsafeBuffer place(final DirectBuffer source, final int sourceOffset, final int length)
    {
        this.length = Math.min(length, MAX_FRAME_LENGTH);
        source.getBytes(sourceOffset, bytes, GUARD_LENGTH, this.length);
        buffer.wrap(bytes, 0, GUARD_LENGTH + this.length);
        return buffer;
    }

    /** Copies the bytes in as the frame; returns the buffer, which ends with it. */
    public UnsafeBuffer place(final byte[] frame)
    {
        length = Math.min(frame.length, MAX_FRAME_LENGTH);
        System.arraycopy(frame, 0, bytes, GUARD_LENGTH, length);
        buffer.wrap(bytes, 0, GUARD_LENGTH + length);
        return buffer;
    }

    /** Where the frame starts in the buffer. */
    public int offset()
    {
        return GUARD_LENGTH;
    }

    public int length()
    {
        return length;
    }

    /** A copy of the frame as it is now. */
    public byte[] copy()
    {
        return Arrays.copyOfRange(bytes, GUARD_LENGTH, GUARD_LENGTH + length);
    }

    /** @return the index of the first guard byte that changed, or -1 when none did. */
    public int changedGuard()
    {
        for (int i = 0; i < GUARD_LENGTH; i++)
        {
            if (bytes[i] != GUARD_BYTE)
            {
                return i;
            }
        }
        return -1;
    }
}
