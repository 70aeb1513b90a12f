package lb.dataplane.packet;

import org.agrona.MutableDirectBuffer;

import static java.nio.ByteOrder.BIG_ENDIAN;

/**
 * Flyweight over a UDP header (RFC 768). A checksum of 0 means the sender sent none. No bounds checks.
 * <pre>
 *   0 source port  2 destination port  4 length (header + data)  6 checksum  8 data
 * </pre>
 */
public final class UdpHeader
{
    /** Offset of the source port. */
    public static final int SOURCE_PORT_OFFSET = 0;
    /** Offset of the destination port. */
    public static final int DESTINATION_PORT_OFFSET = 2;
    /** Offset of the length. */
    public static final int LENGTH_OFFSET = 4;
    /** Offset of the checksum. */
    public static final int CHECKSUM_OFFSET = 6;
    /** Length of the header. */
    public static final int HEADER_LENGTH = 8;

    private MutableDirectBuffer buffer;
    private int offset;

    /**
     * Point this flyweight at a header.
     *
     * @param buffer holding the packet.
     * @param offset of the UDP header.
     * @return this.
     */
    public UdpHeader wrap(final MutableDirectBuffer buffer, final int offset)
    {
        this.buffer = buffer;
        this.offset = offset;
        return this;
    }

    /** @return source port. */
    public int sourcePort()
    {
        return buffer.getShort(offset + SOURCE_PORT_OFFSET, BIG_ENDIAN) & 0xFFFF;
    }

    /**
     * @param port 0..65535.
     * @return this.
     */
    public UdpHeader sourcePort(final int port)
    {
        buffer.putShort(offset + SOURCE_PORT_OFFSET, (short)port, BIG_ENDIAN);
        return this;
    }

    /** @return destination port. */
    public int destinationPort()
    {
        return buffer.getShort(offset + DESTINATION_PORT_OFFSET, BIG_ENDIAN) & 0xFFFF;
    }

    /**
     * @param port 0..65535.
     * @return this.
     */
    public UdpHeader destinationPort(final int port)
    {
        buffer.putShort(offset + DESTINATION_PORT_OFFSET, (short)port, BIG_ENDIAN);
        return this;
    }

    /** @return length of header and data in bytes. */
    public int length()
    {
        return buffer.getShort(offset + LENGTH_OFFSET, BIG_ENDIAN) & 0xFFFF;
    }

    /**
     * @param length of header and data in bytes.
     * @return this.
     */
    public UdpHeader length(final int length)
    {
        buffer.putShort(offset + LENGTH_OFFSET, (short)length, BIG_ENDIAN);
        return this;
    }

    /** @return stored checksum; 0 means none. */
    public int checksum()
    {
        return buffer.getShort(offset + CHECKSUM_OFFSET, BIG_ENDIAN) & 0xFFFF;
    }

    /**
     * @param checksum 0..65535.
     * @return this.
     */
    public UdpHeader checksum(final int checksum)
    {
        buffer.putShort(offset + CHECKSUM_OFFSET, (short)checksum, BIG_ENDIAN);
        return this;
    }
}
