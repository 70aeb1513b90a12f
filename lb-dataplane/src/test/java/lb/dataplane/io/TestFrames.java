package lb.dataplane.io;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Test frames: Ethernet frames with the local-experimental EtherType, a sequence number and random bytes. */
final class TestFrames
{
    /** IEEE 802 local experimental EtherType 1: nothing else on the test links uses it. */
    static final int ETHER_TYPE = 0x88B5;
    static final int SEQUENCE_OFFSET = 14;

    private TestFrames()
    {
    }

    static long mac(final String text)
    {
        return Long.parseLong(text.replace(":", ""), 16);
    }

    /** Build one frame of the given length (at least 18 bytes). */
    static byte[] frame(final long dst, final long src, final int sequence, final int length, final Random random)
    {
        final byte[] bytes = new byte[length];
        random.nextBytes(bytes);
        final UnsafeBuffer buffer = new UnsafeBuffer(bytes);
        putMac(buffer, 0, dst);
        putMac(buffer, 6, src);
        buffer.putShort(12, (short)ETHER_TYPE, ByteOrder.BIG_ENDIAN);
        buffer.putInt(SEQUENCE_OFFSET, sequence, ByteOrder.BIG_ENDIAN);
        return bytes;
    }

    /** Frames of the given sizes. */
    static List<byte[]> frames(final long dst, final long src, final int[] sizes, final long seed)
    {
        final Random random = new Random(seed);
        final List<byte[]> frames = new ArrayList<>();
        for (int i = 0; i < sizes.length; i++)
        {
            frames.add(frame(dst, src, i, sizes[i], random));
        }
        return frames;
    }

    static void putMac(final MutableDirectBuffer buffer, final int offset, final long mac)
    {
        for (int i = 0; i < 6; i++)
        {
            buffer.putByte(offset + i, (byte)(mac >>> (40 - 8 * i)));
        }
    }

    static long getMac(final DirectBuffer buffer, final int offset)
    {
        long mac = 0;
        for (int i = 0; i < 6; i++)
        {
            mac = (mac << 8) | (buffer.getByte(offset + i) & 0xFF);
        }
        return mac;
    }

    /** True if the frame at offset is a test frame from src. */
    static boolean isTestFrame(final DirectBuffer buffer, final int offset, final int length, final long src)
    {
        return length >= 18 &&
            (buffer.getShort(offset + 12, ByteOrder.BIG_ENDIAN) & 0xFFFF) == ETHER_TYPE &&
            getMac(buffer, offset + 6) == src;
    }
}
