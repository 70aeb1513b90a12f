package lb.dataplane.io;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.nio.ByteOrder;

/**
 * Flyweight over a 10-byte {@code struct virtio_net_hdr}, the GSO and checksum-offload metadata the
 * kernel puts in front of each frame of a PACKET_VNET_HDR socket and reads in front of each frame
 * sent on it. Fields are little-endian (legacy virtio byte order on x86_64).
 * <p>
 * On receive it lies immediately before the Ethernet header: wrap it at
 * {@code offset - VnetHeader.LENGTH} of the frame a {@link FrameHandler} is given.
 * {@code csumStart} is counted from the start of the Ethernet header.
 */
public final class VnetHeader
{
    /** Size of {@code struct virtio_net_hdr}. */
    public static final int LENGTH = 10;

    public static final int FLAGS_OFFSET = 0;
    public static final int GSO_TYPE_OFFSET = 1;
    public static final int HDR_LEN_OFFSET = 2;
    public static final int GSO_SIZE_OFFSET = 4;
    public static final int CSUM_START_OFFSET = 6;
    public static final int CSUM_OFFSET_OFFSET = 8;

    /** flags: the L4 checksum is partial; complete it from csumStart and store at csumStart + csumOffset. */
    public static final int F_NEEDS_CSUM = 1;
    /** flags: the checksum was verified. */
    public static final int F_DATA_VALID = 2;

    /** gsoType: not a GSO frame. */
    public static final int GSO_NONE = 0;
    /** gsoType: IPv4 TCP super-frame (TSO). */
    public static final int GSO_TCPV4 = 1;
    /** gsoType: IPv4 UDP fragmentation offload (UFO), legacy. */
    public static final int GSO_UDP = 3;
    /** gsoType: IPv6 TCP super-frame. */
    public static final int GSO_TCPV6 = 4;
    /** gsoType: UDP segmentation (USO). */
    public static final int GSO_UDP_L4 = 5;
    /** gsoType bit: TCP with ECN (CWR may need to be set on the first segment only). */
    public static final int GSO_ECN = 0x80;

    /** Byte order of the header's 16-bit fields (virtio's legacy little-endian, as AF_PACKET uses). */
    public static final ByteOrder ORDER = ByteOrder.LITTLE_ENDIAN;

    private DirectBuffer buffer;
    private MutableDirectBuffer mutableBuffer;
    private int offset;

    /**
     * Wrap a header for reading.
     *
     * @param buffer holding it.
     * @param offset of its first byte.
     * @return this.
     */
    public VnetHeader wrap(final DirectBuffer buffer, final int offset)
    {
        this.buffer = buffer;
        this.mutableBuffer = buffer instanceof MutableDirectBuffer ? (MutableDirectBuffer)buffer : null;
        this.offset = offset;
        return this;
    }

    /** @return the wrapped buffer. */
    public DirectBuffer buffer()
    {
        return buffer;
    }

    /** @return offset of the header in the wrapped buffer. */
    public int offset()
    {
        return offset;
    }

    /** @return flags ({@link #F_NEEDS_CSUM}, {@link #F_DATA_VALID}). */
    public int flags()
    {
        return buffer.getByte(offset + FLAGS_OFFSET) & 0xFF;
    }

    /** @return GSO type ({@link #GSO_NONE}, {@link #GSO_TCPV4}, ...), possibly with {@link #GSO_ECN}. */
    public int gsoType()
    {
        return buffer.getByte(offset + GSO_TYPE_OFFSET) & 0xFF;
    }

    /** @return length of the headers the kernel keeps linear (Ethernet + IP + L4). */
    public int hdrLen()
    {
        return buffer.getShort(offset + HDR_LEN_OFFSET, ORDER) & 0xFFFF;
    }

    /** @return segment payload size (MSS) of a GSO frame. */
    public int gsoSize()
    {
        return buffer.getShort(offset + GSO_SIZE_OFFSET, ORDER) & 0xFFFF;
    }

    /** @return where checksumming starts, from the start of the Ethernet header. */
    public int csumStart()
    {
        return buffer.getShort(offset + CSUM_START_OFFSET, ORDER) & 0xFFFF;
    }

    /** @return where the checksum goes, from csumStart (16 for TCP, 6 for UDP). */
    public int csumOffset()
    {
        return buffer.getShort(offset + CSUM_OFFSET_OFFSET, ORDER) & 0xFFFF;
    }

    /** @return true when this is a GSO super-frame. */
    public boolean isGso()
    {
        return (gsoType() & ~GSO_ECN) != GSO_NONE;
    }

    /** @param value flags. @return this. */
    public VnetHeader flags(final int value)
    {
        mutableBuffer.putByte(offset + FLAGS_OFFSET, (byte)value);
        return this;
    }

    /** @param value GSO type. @return this. */
    public VnetHeader gsoType(final int value)
    {
        mutableBuffer.putByte(offset + GSO_TYPE_OFFSET, (byte)value);
        return this;
    }

    /** @param value header length. @return this. */
    public VnetHeader hdrLen(final int value)
    {
        mutableBuffer.putShort(offset + HDR_LEN_OFFSET, (short)value, ORDER);
        return this;
    }

    /** @param value segment size. @return this. */
    public VnetHeader gsoSize(final int value)
    {
        mutableBuffer.putShort(offset + GSO_SIZE_OFFSET, (short)value, ORDER);
        return this;
    }

    /** @param value checksum start. @return this. */
    public VnetHeader csumStart(final int value)
    {
        mutableBuffer.putShort(offset + CSUM_START_OFFSET, (short)value, ORDER);
        return this;
    }

    /** @param value checksum offset from csumStart. @return this. */
    public VnetHeader csumOffset(final int value)
    {
        mutableBuffer.putShort(offset + CSUM_OFFSET_OFFSET, (short)value, ORDER);
        return this;
    }

    /** Zero all fields: no GSO, no checksum request. @return this. */
    public VnetHeader clear()
    {
        mutableBuffer.setMemory(offset, LENGTH, (byte)0);
        return this;
    }

    @Override
    public String toString()
    {
        return "VnetHeader{flags=" + flags() + " gsoType=" + gsoType() + " hdrLen=" + hdrLen() +
            " gsoSize=" + gsoSize() + " csumStart=" + csumStart() + " csumOffset=" + csumOffset() + "}";
    }
}
