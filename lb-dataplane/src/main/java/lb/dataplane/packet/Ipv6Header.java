package lb.dataplane.packet;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import static java.nio.ByteOrder.BIG_ENDIAN;

/**
 * Flyweight over the fixed IPv6 header (RFC 8200 section 3). An address is two longs, its high and
 * low 64 bits as big-endian numbers (2001:2::1 = 0x2001_0002_0000_0000L, 0x1L). No bounds checks:
 * {@link Ipv6ExtensionWalk} checks the header and the payload length against the frame.
 * <pre>
 *   0 version (4 bits) | traffic class (8) | flow label (20)  4 payload length  6 next header
 *   7 hop limit  8 source (16 bytes)  24 destination (16 bytes)  40 extension headers or payload
 * </pre>
 */
public final class Ipv6Header
{
    /** Offset of the 32-bit word of version, traffic class and flow label. */
    public static final int VERSION_CLASS_FLOW_OFFSET = 0;
    /** Offset of the payload length (everything after the fixed header, extension headers included). */
    public static final int PAYLOAD_LENGTH_OFFSET = 4;
    /** Offset of the next header: the first extension header's type, or the upper-layer protocol. */
    public static final int NEXT_HEADER_OFFSET = 6;
    /** Offset of the hop limit. */
    public static final int HOP_LIMIT_OFFSET = 7;
    /** Offset of the source address's high 64 bits. */
    public static final int SOURCE_OFFSET = 8;
    /** Offset of the source address's low 64 bits. */
    public static final int SOURCE_LOW_OFFSET = 16;
    /** Offset of the destination address's high 64 bits. */
    public static final int DESTINATION_OFFSET = 24;
    /** Offset of the destination address's low 64 bits. */
    public static final int DESTINATION_LOW_OFFSET = 32;
    /** Length of the fixed header. */
    public static final int HEADER_LENGTH = 40;
    /** Length of an address. */
    public static final int ADDRESS_LENGTH = 16;

    /** Ethertype of IPv6. */
    public static final int ETHER_TYPE_IPV6 = 0x86DD;
    /** The version field's value. */
    public static final int VERSION = 6;

    private static final int FLOW_LABEL_MASK = 0xF_FFFF;

    private MutableDirectBuffer buffer;
    private int offset;

    /**
     * Point this flyweight at a header.
     *
     * @param buffer holding the packet.
     * @param offset of the IPv6 header.
     * @return this.
     */
    public Ipv6Header wrap(final MutableDirectBuffer buffer, final int offset)
    {
        this.buffer = buffer;
        this.offset = offset;
        return this;
    }

    /** @return the version field (6 for IPv6). */
    public int version()
    {
        return (buffer.getByte(offset + VERSION_CLASS_FLOW_OFFSET) & 0xF0) >>> 4;
    }

    /** @return traffic class (DSCP in the high 6 bits, ECN in the low 2). */
    public int trafficClass()
    {
        return buffer.getInt(offset + VERSION_CLASS_FLOW_OFFSET, BIG_ENDIAN) >>> 20 & 0xFF;
    }

    /** @return flow label, 20 bits. */
    public int flowLabel()
    {
        return buffer.getInt(offset + VERSION_CLASS_FLOW_OFFSET, BIG_ENDIAN) & FLOW_LABEL_MASK;
    }

    /**
     * Set version 6, a traffic class and a flow label.
     *
     * @param trafficClass 0..255.
     * @param flowLabel    0..0xFFFFF.
     * @return this.
     */
    public Ipv6Header versionClassFlow(final int trafficClass, final int flowLabel)
    {
        buffer.putInt(offset + VERSION_CLASS_FLOW_OFFSET, versionClassFlowWord(trafficClass, flowLabel), BIG_ENDIAN);
        return this;
    }

    /** @return payload length in bytes: extension headers and upper-layer data, not the fixed header. */
    public int payloadLength()
    {
        return buffer.getShort(offset + PAYLOAD_LENGTH_OFFSET, BIG_ENDIAN) & 0xFFFF;
    }

    /**
     * @param payloadLength in bytes, the fixed header excluded.
     * @return this.
     */
    public Ipv6Header payloadLength(final int payloadLength)
    {
        buffer.putShort(offset + PAYLOAD_LENGTH_OFFSET, (short)payloadLength, BIG_ENDIAN);
        return this;
    }

    /** @return next header: the first extension header's type or the upper-layer protocol. */
    public int nextHeader()
    {
        return buffer.getByte(offset + NEXT_HEADER_OFFSET) & 0xFF;
    }

    /**
     * @param nextHeader 0..255.
     * @return this.
     */
    public Ipv6Header nextHeader(final int nextHeader)
    {
        buffer.putByte(offset + NEXT_HEADER_OFFSET, (byte)nextHeader);
        return this;
    }

    /** @return hop limit. */
    public int hopLimit()
    {
        return buffer.getByte(offset + HOP_LIMIT_OFFSET) & 0xFF;
    }

    /**
     * @param hopLimit 0..255.
     * @return this.
     */
    public Ipv6Header hopLimit(final int hopLimit)
    {
        buffer.putByte(offset + HOP_LIMIT_OFFSET, (byte)hopLimit);
        return this;
    }

    /** @return source address, high 64 bits. */
    public long sourceHigh()
    {
        return buffer.getLong(offset + SOURCE_OFFSET, BIG_ENDIAN);
    }

    /** @return source address, low 64 bits. */
    public long sourceLow()
    {
        return buffer.getLong(offset + SOURCE_LOW_OFFSET, BIG_ENDIAN);
    }

    /**
     * @param high source address, high 64 bits.
     * @param low  source address, low 64 bits.
     * @return this.
     */
    public Ipv6Header sourceAddress(final long high, final long low)
    {
        putAddress(buffer, offset + SOURCE_OFFSET, high, low);
        return this;
    }

    /** @return destination address, high 64 bits. */
    public long destinationHigh()
    {
        return buffer.getLong(offset + DESTINATION_OFFSET, BIG_ENDIAN);
    }

    /** @return destination address, low 64 bits. */
    public long destinationLow()
    {
        return buffer.getLong(offset + DESTINATION_LOW_OFFSET, BIG_ENDIAN);
    }

    /**
     * @param high destination address, high 64 bits.
     * @param low  destination address, low 64 bits.
     * @return this.
     */
    public Ipv6Header destinationAddress(final long high, final long low)
    {
        putAddress(buffer, offset + DESTINATION_OFFSET, high, low);
        return this;
    }

    /**
     * Write a complete fixed IPv6 header: traffic class 0, flow label 0.
     *
     * @param buffer          to write to.
     * @param offset          of the header.
     * @param payloadLength   bytes after the fixed header.
     * @param nextHeader      first extension header's type or upper-layer protocol.
     * @param hopLimit        hop limit.
     * @param sourceHigh      source address, high 64 bits.
     * @param sourceLow       source address, low 64 bits.
     * @param destinationHigh destination address, high 64 bits.
     * @param destinationLow  destination address, low 64 bits.
     * @return {@link #HEADER_LENGTH}.
     */
    public static int write(
        final MutableDirectBuffer buffer,
        final int offset,
        final int payloadLength,
        final int nextHeader,
        final int hopLimit,
        final long sourceHigh,
        final long sourceLow,
        final long destinationHigh,
        final long destinationLow)
    {
        buffer.putInt(offset + VERSION_CLASS_FLOW_OFFSET, versionClassFlowWord(0, 0), BIG_ENDIAN);
        buffer.putShort(offset + PAYLOAD_LENGTH_OFFSET, (short)payloadLength, BIG_ENDIAN);
        buffer.putByte(offset + NEXT_HEADER_OFFSET, (byte)nextHeader);
        buffer.putByte(offset + HOP_LIMIT_OFFSET, (byte)hopLimit);
        putAddress(buffer, offset + SOURCE_OFFSET, sourceHigh, sourceLow);
        putAddress(buffer, offset + DESTINATION_OFFSET, destinationHigh, destinationLow);
        return HEADER_LENGTH;
    }

    /**
     * Write an address as 16 bytes.
     *
     * @param buffer to write to.
     * @param index  of the first byte.
     * @param high   high 64 bits.
     * @param low    low 64 bits.
     */
    public static void putAddress(final MutableDirectBuffer buffer, final int index, final long high, final long low)
    {
        buffer.putLong(index, high, BIG_ENDIAN);
        buffer.putLong(index + 8, low, BIG_ENDIAN);
    }

    /**
     * Read an address's high 64 bits (the low 64 are {@code getLong(index + 8, BIG_ENDIAN)}).
     *
     * @param buffer holding it.
     * @param index  of the first byte.
     * @return high 64 bits.
     */
    public static long getAddressHigh(final DirectBuffer buffer, final int index)
    {
        return buffer.getLong(index, BIG_ENDIAN);
    }

    /**
     * Read an address's low 64 bits.
     *
     * @param buffer holding it.
     * @param index  of the address's first byte.
     * @return low 64 bits.
     */
    public static long getAddressLow(final DirectBuffer buffer, final int index)
    {
        return buffer.getLong(index + 8, BIG_ENDIAN);
    }

    /**
     * Format an address in full hexadecimal groups, for logs and messages (allocates; not for the
     * hot path, and no "::" shortening).
     *
     * @param high high 64 bits.
     * @param low  low 64 bits.
     * @return e.g. "2001:2:0:0:0:0:0:1".
     */
    public static String addressToString(final long high, final long low)
    {
        final StringBuilder text = new StringBuilder(39);
        for (int group = 0; group < 8; group++)
        {
            final long half = group < 4 ? high : low;
            final int word = (int)(half >>> (48 - 16 * (group & 3))) & 0xFFFF;
            if (group > 0)
            {
                text.append(':');
            }
            text.append(Integer.toHexString(word));
        }
        return text.toString();
    }

    private static int versionClassFlowWord(final int trafficClass, final int flowLabel)
    {
        return VERSION << 28 | (trafficClass & 0xFF) << 20 | flowLabel & FLOW_LABEL_MASK;
    }
}
