package lb.dataplane.packet;

import org.agrona.MutableDirectBuffer;

import static java.nio.ByteOrder.BIG_ENDIAN;

/**
 * Flyweight over an ARP packet (RFC 826), the Ethernet payload. Only the Ethernet/IPv4 form
 * (28 bytes) has the sender/target offsets below. No bounds checks.
 * <pre>
 *   0 htype  2 ptype  4 hlen  5 plen  6 op  8 sha  14 spa  18 tha  24 tpa  28
 * </pre>
 */
public final class ArpPacket
{
    /** Offset of the hardware type. */
    public static final int HARDWARE_TYPE_OFFSET = 0;
    /** Offset of the protocol type. */
    public static final int PROTOCOL_TYPE_OFFSET = 2;
    /** Offset of the hardware address length. */
    public static final int HARDWARE_LENGTH_OFFSET = 4;
    /** Offset of the protocol address length. */
    public static final int PROTOCOL_LENGTH_OFFSET = 5;
    /** Offset of the operation. */
    public static final int OPERATION_OFFSET = 6;
    /** Offset of the sender hardware address. */
    public static final int SENDER_MAC_OFFSET = 8;
    /** Offset of the sender protocol address. */
    public static final int SENDER_IP_OFFSET = 14;
    /** Offset of the target hardware address. */
    public static final int TARGET_MAC_OFFSET = 18;
    /** Offset of the target protocol address. */
    public static final int TARGET_IP_OFFSET = 24;
    /** Length of an Ethernet/IPv4 ARP packet. */
    public static final int LENGTH = 28;
    /** Length of an untagged Ethernet frame carrying ARP, without padding to the 60-byte minimum. */
    public static final int FRAME_LENGTH = EthernetHeader.HEADER_LENGTH + LENGTH;

    /** Hardware type of Ethernet. */
    public static final int HARDWARE_TYPE_ETHERNET = 1;
    /** Protocol address length of IPv4. */
    public static final int IPV4_LENGTH = 4;
    /** Operation: request. */
    public static final int OP_REQUEST = 1;
    /** Operation: reply. */
    public static final int OP_REPLY = 2;

    private MutableDirectBuffer buffer;
    private int offset;

    /**
     * Point this flyweight at an ARP packet.
     *
     * @param buffer holding the packet.
     * @param offset of the ARP packet (after the Ethernet header).
     * @return this.
     */
    public ArpPacket wrap(final MutableDirectBuffer buffer, final int offset)
    {
        this.buffer = buffer;
        this.offset = offset;
        return this;
    }

    /** @return hardware type (1 for Ethernet). */
    public int hardwareType()
    {
        return buffer.getShort(offset + HARDWARE_TYPE_OFFSET, BIG_ENDIAN) & 0xFFFF;
    }

    /** @return protocol type (0x0800 for IPv4). */
    public int protocolType()
    {
        return buffer.getShort(offset + PROTOCOL_TYPE_OFFSET, BIG_ENDIAN) & 0xFFFF;
    }

    /** @return hardware address length (6 for Ethernet). */
    public int hardwareLength()
    {
        return buffer.getByte(offset + HARDWARE_LENGTH_OFFSET) & 0xFF;
    }

    /** @return protocol address length (4 for IPv4). */
    public int protocolLength()
    {
        return buffer.getByte(offset + PROTOCOL_LENGTH_OFFSET) & 0xFF;
    }

    /** @return operation: {@link #OP_REQUEST} or {@link #OP_REPLY}. */
    public int operation()
    {
        return buffer.getShort(offset + OPERATION_OFFSET, BIG_ENDIAN) & 0xFFFF;
    }

    /** @return sender MAC in the low 48 bits. */
    public long senderMac()
    {
        return EthernetHeader.getMac(buffer, offset + SENDER_MAC_OFFSET);
    }

    /** @return sender IPv4 address. */
    public int senderIp()
    {
        return buffer.getInt(offset + SENDER_IP_OFFSET, BIG_ENDIAN);
    }

    /** @return target MAC in the low 48 bits. */
    public long targetMac()
    {
        return EthernetHeader.getMac(buffer, offset + TARGET_MAC_OFFSET);
    }

    /** @return target IPv4 address. */
    public int targetIp()
    {
        return buffer.getInt(offset + TARGET_IP_OFFSET, BIG_ENDIAN);
    }

    /**
     * Write all fields of the wrapped Ethernet/IPv4 ARP packet.
     *
     * @param operation {@link #OP_REQUEST} or {@link #OP_REPLY}.
     * @param senderMac sender hardware address.
     * @param senderIp  sender protocol address.
     * @param targetMac target hardware address (0 in a request).
     * @param targetIp  target protocol address.
     * @return this.
     */
    public ArpPacket set(
        final int operation, final long senderMac, final int senderIp, final long targetMac, final int targetIp)
    {
        write(buffer, offset, operation, senderMac, senderIp, targetMac, targetIp);
        return this;
    }

    /**
     * Write all fields of an Ethernet/IPv4 ARP packet.
     *
     * @param buffer    to write to.
     * @param arpOffset of the ARP packet (after the Ethernet header).
     * @param operation {@link #OP_REQUEST} or {@link #OP_REPLY}.
     * @param senderMac sender hardware address.
     * @param senderIp  sender protocol address.
     * @param targetMac target hardware address (0 in a request).
     * @param targetIp  target protocol address.
     * @return {@link #LENGTH}.
     */
    public static int write(
        final MutableDirectBuffer buffer,
        final int arpOffset,
        final int operation,
        final long senderMac,
        final int senderIp,
        final long targetMac,
        final int targetIp)
    {
        buffer.putShort(arpOffset + HARDWARE_TYPE_OFFSET, (short)HARDWARE_TYPE_ETHERNET, BIG_ENDIAN);
        buffer.putShort(arpOffset + PROTOCOL_TYPE_OFFSET, (short)EthernetHeader.ETHER_TYPE_IPV4, BIG_ENDIAN);
        buffer.putByte(arpOffset + HARDWARE_LENGTH_OFFSET, (byte)EthernetHeader.MAC_LENGTH);
        buffer.putByte(arpOffset + PROTOCOL_LENGTH_OFFSET, (byte)IPV4_LENGTH);
        buffer.putShort(arpOffset + OPERATION_OFFSET, (short)operation, BIG_ENDIAN);
        EthernetHeader.putMac(buffer, arpOffset + SENDER_MAC_OFFSET, senderMac);
        buffer.putInt(arpOffset + SENDER_IP_OFFSET, senderIp, BIG_ENDIAN);
        EthernetHeader.putMac(buffer, arpOffset + TARGET_MAC_OFFSET, targetMac);
        buffer.putInt(arpOffset + TARGET_IP_OFFSET, targetIp, BIG_ENDIAN);
        return LENGTH;
    }

    /**
     * Write a complete untagged broadcast ARP request frame: "who has {@code targetIp}? tell
     * {@code senderIp}". Also a gratuitous ARP when {@code targetIp == senderIp}. The frame is
     * {@link #FRAME_LENGTH} bytes; the NIC driver pads it to the Ethernet minimum.
     *
     * @param buffer    to write to.
     * @param offset    of the frame.
     * @param senderMac our MAC (Ethernet source and ARP sender).
     * @param senderIp  our IPv4 address.
     * @param targetIp  the address to resolve.
     * @return {@link #FRAME_LENGTH}.
     */
    public static int writeRequestFrame(
        final MutableDirectBuffer buffer, final int offset, final long senderMac, final int senderIp, final int targetIp)
    {
        final int l2 = EthernetHeader.write(buffer, offset, EthernetHeader.BROADCAST_MAC, senderMac, EthernetHeader.ETHER_TYPE_ARP);
        write(buffer, offset + l2, OP_REQUEST, senderMac, senderIp, 0L, targetIp);
        return FRAME_LENGTH;
    }

    /**
     * Write a complete untagged unicast ARP reply frame: "{@code senderIp} is at {@code senderMac}",
     * sent to the requester.
     *
     * @param buffer    to write to.
     * @param offset    of the frame.
     * @param senderMac our MAC (Ethernet source and ARP sender).
     * @param senderIp  the address being answered for.
     * @param targetMac the requester's MAC (Ethernet destination and ARP target).
     * @param targetIp  the requester's IPv4 address.
     * @return {@link #FRAME_LENGTH}.
     */
    public static int writeReplyFrame(
        final MutableDirectBuffer buffer,
        final int offset,
        final long senderMac,
        final int senderIp,
        final long targetMac,
        final int targetIp)
    {
        final int l2 = EthernetHeader.write(buffer, offset, targetMac, senderMac, EthernetHeader.ETHER_TYPE_ARP);
        write(buffer, offset + l2, OP_REPLY, senderMac, senderIp, targetMac, targetIp);
        return FRAME_LENGTH;
    }
}
