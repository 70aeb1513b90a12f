package lb.dataplane.packet;

import lb.dataplane.checksum.Checksums;
import org.agrona.MutableDirectBuffer;

import static java.nio.ByteOrder.BIG_ENDIAN;

/**
 * Flyweight over an IPv4 header (RFC 791). Addresses are ints holding the address as a big-endian
 * number (198.18.0.1 = 0xC6120001). No bounds checks: the classifier has checked IHL and lengths.
 * <pre>
 *   0 ver|ihl  1 dscp|ecn  2 total length  4 id  6 flags|fragment offset  8 ttl  9 protocol
 *   10 checksum  12 source  16 destination  20 options (IHL * 4 - 20 bytes)
 * </pre>
 */
public final class Ipv4Header
{
    /** Offset of version (high nibble) and IHL (low nibble). */
    public static final int VERSION_IHL_OFFSET = 0;
    /** Offset of DSCP (high 6 bits) and ECN (low 2 bits). */
    public static final int DSCP_ECN_OFFSET = 1;
    /** Offset of the total length. */
    public static final int TOTAL_LENGTH_OFFSET = 2;
    /** Offset of the identification. */
    public static final int IDENTIFICATION_OFFSET = 4;
    /** Offset of flags (high 3 bits) and fragment offset (low 13 bits). */
    public static final int FLAGS_FRAGMENT_OFFSET = 6;
    /** Offset of the TTL. */
    public static final int TTL_OFFSET = 8;
    /** Offset of the protocol. */
    public static final int PROTOCOL_OFFSET = 9;
    /** Offset of the header checksum. */
    public static final int CHECKSUM_OFFSET = 10;
    /** Offset of the source address. */
    public static final int SOURCE_OFFSET = 12;
    /** Offset of the destination address. */
    public static final int DESTINATION_OFFSET = 16;
    /** Offset of the first option. */
    public static final int OPTIONS_OFFSET = 20;

    /** Length of a header without options. */
    public static final int MIN_HEADER_LENGTH = 20;
    /** Length of a header with the most options (IHL 15). */
    public static final int MAX_HEADER_LENGTH = 60;

    /** Protocol number of ICMP. */
    public static final int PROTOCOL_ICMP = 1;
    /** Protocol number of TCP. */
    public static final int PROTOCOL_TCP = Checksums.PROTOCOL_TCP;
    /** Protocol number of UDP. */
    public static final int PROTOCOL_UDP = Checksums.PROTOCOL_UDP;

    /** Don't-fragment bit of the flags/fragment field. */
    public static final int FLAG_DONT_FRAGMENT = 0x4000;
    /** More-fragments bit of the flags/fragment field. */
    public static final int FLAG_MORE_FRAGMENTS = 0x2000;
    /** Fragment offset bits (in 8-byte units) of the flags/fragment field. */
    public static final int FRAGMENT_OFFSET_MASK = 0x1FFF;

    private MutableDirectBuffer buffer;
    private int offset;

    /**
     * Point this flyweight at a header.
     *
     * @param buffer holding the packet.
     * @param offset of the IPv4 header.
     * @return this.
     */
    public Ipv4Header wrap(final MutableDirectBuffer buffer, final int offset)
    {
        this.buffer = buffer;
        this.offset = offset;
        return this;
    }

    /** @return the version field (4 for IPv4). */
    public int version()
    {
        return (buffer.getByte(offset + VERSION_IHL_OFFSET) & 0xF0) >>> 4;
    }

    /** @return header length in 32-bit words. */
    public int ihl()
    {
        return buffer.getByte(offset + VERSION_IHL_OFFSET) & 0x0F;
    }

    /** @return header length in bytes, IHL * 4. */
    public int headerLength()
    {
        return ihl() << 2;
    }

    /** @return options length in bytes, header length - 20. */
    public int optionsLength()
    {
        return headerLength() - MIN_HEADER_LENGTH;
    }

    /**
     * Set version 4 and a header length.
     *
     * @param headerLength in bytes, a multiple of 4 in 20..60.
     * @return this.
     */
    public Ipv4Header versionAndHeaderLength(final int headerLength)
    {
        buffer.putByte(offset + VERSION_IHL_OFFSET, (byte)(0x40 | (headerLength >>> 2)));
        return this;
    }

    /** @return DSCP, 0..63. */
    public int dscp()
    {
        return (buffer.getByte(offset + DSCP_ECN_OFFSET) & 0xFF) >>> 2;
    }

    /** @return ECN, 0..3. */
    public int ecn()
    {
        return buffer.getByte(offset + DSCP_ECN_OFFSET) & 0x03;
    }

    /**
     * @param dscp 0..63.
     * @param ecn  0..3.
     * @return this.
     */
    public Ipv4Header dscpEcn(final int dscp, final int ecn)
    {
        buffer.putByte(offset + DSCP_ECN_OFFSET, (byte)(dscp << 2 | ecn & 0x03));
        return this;
    }

    /** @return total length of the datagram in bytes, header included. */
    public int totalLength()
    {
        return buffer.getShort(offset + TOTAL_LENGTH_OFFSET, BIG_ENDIAN) & 0xFFFF;
    }

    /**
     * @param totalLength in bytes, header included.
     * @return this.
     */
    public Ipv4Header totalLength(final int totalLength)
    {
        buffer.putShort(offset + TOTAL_LENGTH_OFFSET, (short)totalLength, BIG_ENDIAN);
        return this;
    }

    /** @return identification. */
    public int identification()
    {
        return buffer.getShort(offset + IDENTIFICATION_OFFSET, BIG_ENDIAN) & 0xFFFF;
    }

    /**
     * @param identification 0..65535.
     * @return this.
     */
    public Ipv4Header identification(final int identification)
    {
        buffer.putShort(offset + IDENTIFICATION_OFFSET, (short)identification, BIG_ENDIAN);
        return this;
    }

    /** @return the 3 flag bits (0x2 don't fragment, 0x1 more fragments). */
    public int flags()
    {
        return (buffer.getShort(offset + FLAGS_FRAGMENT_OFFSET, BIG_ENDIAN) & 0xFFFF) >>> 13;
    }

    /** @return whether don't-fragment is set. */
    public boolean dontFragment()
    {
        return (buffer.getShort(offset + FLAGS_FRAGMENT_OFFSET, BIG_ENDIAN) & FLAG_DONT_FRAGMENT) != 0;
    }

    /** @return whether more-fragments is set. */
    public boolean moreFragments()
    {
        return (buffer.getShort(offset + FLAGS_FRAGMENT_OFFSET, BIG_ENDIAN) & FLAG_MORE_FRAGMENTS) != 0;
    }

    /** @return fragment offset in 8-byte units. */
    public int fragmentOffset()
    {
        return buffer.getShort(offset + FLAGS_FRAGMENT_OFFSET, BIG_ENDIAN) & FRAGMENT_OFFSET_MASK;
    }

    /**
     * @param flags          the 3 flag bits (0x2 don't fragment, 0x1 more fragments).
     * @param fragmentOffset in 8-byte units.
     * @return this.
     */
    public Ipv4Header flagsAndFragmentOffset(final int flags, final int fragmentOffset)
    {
        buffer.putShort(offset + FLAGS_FRAGMENT_OFFSET, (short)(flags << 13 | fragmentOffset & FRAGMENT_OFFSET_MASK), BIG_ENDIAN);
        return this;
    }

    /** @return time to live. */
    public int ttl()
    {
        return buffer.getByte(offset + TTL_OFFSET) & 0xFF;
    }

    /**
     * @param ttl 0..255.
     * @return this.
     */
    public Ipv4Header ttl(final int ttl)
    {
        buffer.putByte(offset + TTL_OFFSET, (byte)ttl);
        return this;
    }

    /** @return protocol number. */
    public int protocol()
    {
        return buffer.getByte(offset + PROTOCOL_OFFSET) & 0xFF;
    }

    /**
     * @param protocol 0..255.
     * @return this.
     */
    public Ipv4Header protocol(final int protocol)
    {
        buffer.putByte(offset + PROTOCOL_OFFSET, (byte)protocol);
        return this;
    }

    /** @return the stored header checksum. */
    public int checksum()
    {
        return buffer.getShort(offset + CHECKSUM_OFFSET, BIG_ENDIAN) & 0xFFFF;
    }

    /**
     * @param checksum 0..65535.
     * @return this.
     */
    public Ipv4Header checksum(final int checksum)
    {
        buffer.putShort(offset + CHECKSUM_OFFSET, (short)checksum, BIG_ENDIAN);
        return this;
    }

    /**
     * Compute and store the header checksum over {@link #headerLength()} bytes.
     *
     * @return this.
     */
    public Ipv4Header updateChecksum()
    {
        return checksum(Checksums.ipv4HeaderChecksum(buffer, offset, headerLength()));
    }

    /** @return source address. */
    public int sourceAddress()
    {
        return buffer.getInt(offset + SOURCE_OFFSET, BIG_ENDIAN);
    }

    /**
     * @param address source address.
     * @return this.
     */
    public Ipv4Header sourceAddress(final int address)
    {
        buffer.putInt(offset + SOURCE_OFFSET, address, BIG_ENDIAN);
        return this;
    }

    /** @return destination address. */
    public int destinationAddress()
    {
        return buffer.getInt(offset + DESTINATION_OFFSET, BIG_ENDIAN);
    }

    /**
     * @param address destination address.
     * @return this.
     */
    public Ipv4Header destinationAddress(final int address)
    {
        buffer.putInt(offset + DESTINATION_OFFSET, address, BIG_ENDIAN);
        return this;
    }

    /**
     * Write a complete IPv4 header with no options: DSCP/ECN 0, id 0, don't-fragment set, and a
     * correct checksum.
     *
     * @param buffer      to write to.
     * @param offset      of the header.
     * @param totalLength of the datagram, header included.
     * @param ttl         time to live.
     * @param protocol    protocol number.
     * @param source      source address.
     * @param destination destination address.
     * @return {@link #MIN_HEADER_LENGTH}.
     */
    public static int write(
        final MutableDirectBuffer buffer,
        final int offset,
        final int totalLength,
        final int ttl,
        final int protocol,
        final int source,
        final int destination)
    {
        buffer.putByte(offset + VERSION_IHL_OFFSET, (byte)0x45);
        buffer.putByte(offset + DSCP_ECN_OFFSET, (byte)0);
        buffer.putShort(offset + TOTAL_LENGTH_OFFSET, (short)totalLength, BIG_ENDIAN);
        buffer.putShort(offset + IDENTIFICATION_OFFSET, (short)0, BIG_ENDIAN);
        buffer.putShort(offset + FLAGS_FRAGMENT_OFFSET, (short)FLAG_DONT_FRAGMENT, BIG_ENDIAN);
        buffer.putByte(offset + TTL_OFFSET, (byte)ttl);
        buffer.putByte(offset + PROTOCOL_OFFSET, (byte)protocol);
        buffer.putShort(offset + CHECKSUM_OFFSET, (short)0, BIG_ENDIAN);
        buffer.putInt(offset + SOURCE_OFFSET, source, BIG_ENDIAN);
        buffer.putInt(offset + DESTINATION_OFFSET, destination, BIG_ENDIAN);
        buffer.putShort(
            offset + CHECKSUM_OFFSET, (short)Checksums.ipv4HeaderChecksum(buffer, offset, MIN_HEADER_LENGTH), BIG_ENDIAN);
        return MIN_HEADER_LENGTH;
    }

    /**
     * Format an address as dotted quad, for logs and messages (allocates; not for the hot path).
     *
     * @param address IPv4 address.
     * @return e.g. "198.18.0.1".
     */
    public static String addressToString(final int address)
    {
        return (address >>> 24) + "." + (address >>> 16 & 0xFF) + "." + (address >>> 8 & 0xFF) + "." + (address & 0xFF);
    }
}
