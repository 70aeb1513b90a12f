package lb.dataplane.packet;

import org.agrona.MutableDirectBuffer;

import static java.nio.ByteOrder.BIG_ENDIAN;

/**
 * Flyweight over a TCP header (RFC 9293). No bounds checks.
 * <pre>
 *   0 source port  2 destination port  4 sequence  8 acknowledgement
 *   12 data offset (high nibble)  13 flags  14 window  16 checksum  18 urgent pointer  20 options
 * </pre>
 */
public final class TcpHeader
{
    /** Offset of the source port. */
    public static final int SOURCE_PORT_OFFSET = 0;
    /** Offset of the destination port. */
    public static final int DESTINATION_PORT_OFFSET = 2;
    /** Offset of the sequence number. */
    public static final int SEQUENCE_OFFSET = 4;
    /** Offset of the acknowledgement number. */
    public static final int ACKNOWLEDGEMENT_OFFSET = 8;
    /** Offset of the data offset (high nibble, in 32-bit words). */
    public static final int DATA_OFFSET_OFFSET = 12;
    /** Offset of the flags byte (CWR ECE URG ACK PSH RST SYN FIN). */
    public static final int FLAGS_OFFSET = 13;
    /** Offset of the window. */
    public static final int WINDOW_OFFSET = 14;
    /** Offset of the checksum. */
    public static final int CHECKSUM_OFFSET = 16;
    /** Offset of the urgent pointer. */
    public static final int URGENT_POINTER_OFFSET = 18;

    /** Length of a header without options. */
    public static final int MIN_HEADER_LENGTH = 20;

    /** FIN flag. */
    public static final int FIN = 0x01;
    /** SYN flag. */
    public static final int SYN = 0x02;
    /** RST flag. */
    public static final int RST = 0x04;
    /** PSH flag. */
    public static final int PSH = 0x08;
    /** ACK flag. */
    public static final int ACK = 0x10;
    /** URG flag. */
    public static final int URG = 0x20;
    /** ECE flag. */
    public static final int ECE = 0x40;
    /** CWR flag. */
    public static final int CWR = 0x80;

    private MutableDirectBuffer buffer;
    private int offset;

    /**
     * Point this flyweight at a header.
     *
     * @param buffer holding the packet.
     * @param offset of the TCP header.
     * @return this.
     */
    public TcpHeader wrap(final MutableDirectBuffer buffer, final int offset)
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
    public TcpHeader sourcePort(final int port)
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
    public TcpHeader destinationPort(final int port)
    {
        buffer.putShort(offset + DESTINATION_PORT_OFFSET, (short)port, BIG_ENDIAN);
        return this;
    }

    /** @return sequence number as an unsigned 32-bit value. */
    public long sequence()
    {
        return buffer.getInt(offset + SEQUENCE_OFFSET, BIG_ENDIAN) & 0xFFFF_FFFFL;
    }

    /**
     * @param sequence low 32 bits used.
     * @return this.
     */
    public TcpHeader sequence(final long sequence)
    {
        buffer.putInt(offset + SEQUENCE_OFFSET, (int)sequence, BIG_ENDIAN);
        return this;
    }

    /** @return acknowledgement number as an unsigned 32-bit value. */
    public long acknowledgement()
    {
        return buffer.getInt(offset + ACKNOWLEDGEMENT_OFFSET, BIG_ENDIAN) & 0xFFFF_FFFFL;
    }

    /**
     * @param acknowledgement low 32 bits used.
     * @return this.
     */
    public TcpHeader acknowledgement(final long acknowledgement)
    {
        buffer.putInt(offset + ACKNOWLEDGEMENT_OFFSET, (int)acknowledgement, BIG_ENDIAN);
        return this;
    }

    /** @return data offset in 32-bit words. */
    public int dataOffset()
    {
        return (buffer.getByte(offset + DATA_OFFSET_OFFSET) & 0xF0) >>> 4;
    }

    /** @return header length in bytes, data offset * 4. */
    public int headerLength()
    {
        return dataOffset() << 2;
    }

    /**
     * Set the data offset; the reserved bits and the AE bit in the same byte are cleared.
     *
     * @param headerLength in bytes, a multiple of 4 in 20..60.
     * @return this.
     */
    public TcpHeader headerLength(final int headerLength)
    {
        buffer.putByte(offset + DATA_OFFSET_OFFSET, (byte)(headerLength >>> 2 << 4));
        return this;
    }

    /** @return the flags byte: {@link #FIN} ... {@link #CWR}. */
    public int flags()
    {
        return buffer.getByte(offset + FLAGS_OFFSET) & 0xFF;
    }

    /**
     * @param flags the flags byte.
     * @return this.
     */
    public TcpHeader flags(final int flags)
    {
        buffer.putByte(offset + FLAGS_OFFSET, (byte)flags);
        return this;
    }

    /** @return receive window. */
    public int window()
    {
        return buffer.getShort(offset + WINDOW_OFFSET, BIG_ENDIAN) & 0xFFFF;
    }

    /**
     * @param window 0..65535.
     * @return this.
     */
    public TcpHeader window(final int window)
    {
        buffer.putShort(offset + WINDOW_OFFSET, (short)window, BIG_ENDIAN);
        return this;
    }

    /** @return stored checksum. */
    public int checksum()
    {
        return buffer.getShort(offset + CHECKSUM_OFFSET, BIG_ENDIAN) & 0xFFFF;
    }

    /**
     * @param checksum 0..65535.
     * @return this.
     */
    public TcpHeader checksum(final int checksum)
    {
        buffer.putShort(offset + CHECKSUM_OFFSET, (short)checksum, BIG_ENDIAN);
        return this;
    }

    /** @return urgent pointer. */
    public int urgentPointer()
    {
        return buffer.getShort(offset + URGENT_POINTER_OFFSET, BIG_ENDIAN) & 0xFFFF;
    }

    /**
     * @param urgentPointer 0..65535.
     * @return this.
     */
    public TcpHeader urgentPointer(final int urgentPointer)
    {
        buffer.putShort(offset + URGENT_POINTER_OFFSET, (short)urgentPointer, BIG_ENDIAN);
        return this;
    }
}
