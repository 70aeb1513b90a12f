package lb.dataplane.packet;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import static java.nio.ByteOrder.BIG_ENDIAN;

/**
 * Flyweight over an Ethernet II header, with up to two VLAN tags (802.1Q, or an 802.1ad outer tag
 * followed by an 802.1Q inner tag). MAC addresses are longs holding the 48-bit address in their low
 * bits. No bounds checks: the classifier has checked the frame's length.
 * <pre>
 *   0 dst  6 src  12 ethertype, or a TPID (0x8100, 0x88A8)  14 TCI (PCP 3 bits, DEI 1, VLAN id 12)
 *   16 ethertype, or the second tag's TPID (0x8100)  18 second TCI  20 ethertype
 * </pre>
 */
public final class EthernetHeader
{
    /** Offset of the destination MAC. */
    public static final int DESTINATION_OFFSET = 0;
    /** Offset of the source MAC. */
    public static final int SOURCE_OFFSET = 6;
    /** Offset of the ethertype, or of the first tag's TPID when tagged. */
    public static final int ETHER_TYPE_OFFSET = 12;
    /** Offset of the first tag's TCI. */
    public static final int OUTER_TCI_OFFSET = 14;
    /** Offset of the ethertype after one tag, or of the second tag's TPID. */
    public static final int OUTER_INNER_TYPE_OFFSET = 16;
    /** Offset of the second tag's TCI. */
    public static final int INNER_TCI_OFFSET = 18;
    /** Offset of the ethertype after two tags. */
    public static final int DOUBLE_TAGGED_TYPE_OFFSET = 20;

    /** Length of an untagged header. */
    public static final int HEADER_LENGTH = 14;
    /** Length of one VLAN tag. */
    public static final int TAG_LENGTH = 4;
    /** Length of a header with one tag. */
    public static final int TAGGED_HEADER_LENGTH = HEADER_LENGTH + TAG_LENGTH;
    /** Length of a header with two tags. */
    public static final int DOUBLE_TAGGED_HEADER_LENGTH = HEADER_LENGTH + 2 * TAG_LENGTH;
    /** Length of a MAC address. */
    public static final int MAC_LENGTH = 6;

    /** Ethertype of IPv4. */
    public static final int ETHER_TYPE_IPV4 = 0x0800;
    /** Ethertype of ARP. */
    public static final int ETHER_TYPE_ARP = 0x0806;
    /** TPID of an 802.1Q (customer) VLAN tag. */
    public static final int TPID_8021Q = 0x8100;
    /** TPID of an 802.1ad (QinQ service, outer) VLAN tag. */
    public static final int TPID_8021AD = 0x88A8;
    /** The broadcast MAC address. */
    public static final long BROADCAST_MAC = 0xFFFF_FFFF_FFFFL;
    /** VLAN id bits of a TCI. */
    public static final int VLAN_ID_MASK = 0x0FFF;

    private MutableDirectBuffer buffer;
    private int offset;

    /**
     * Point this flyweight at a header.
     *
     * @param buffer holding the frame.
     * @param offset of the frame's first byte.
     * @return this.
     */
    public EthernetHeader wrap(final MutableDirectBuffer buffer, final int offset)
    {
        this.buffer = buffer;
        this.offset = offset;
        return this;
    }

    /** @return the buffer wrapped. */
    public MutableDirectBuffer buffer()
    {
        return buffer;
    }

    /** @return the offset of the frame in the buffer. */
    public int offset()
    {
        return offset;
    }

    /** @return destination MAC in the low 48 bits. */
    public long destinationMac()
    {
        return getMac(buffer, offset + DESTINATION_OFFSET);
    }

    /**
     * @param mac destination MAC in the low 48 bits.
     * @return this.
     */
    public EthernetHeader destinationMac(final long mac)
    {
        putMac(buffer, offset + DESTINATION_OFFSET, mac);
        return this;
    }

    /** @return source MAC in the low 48 bits. */
    public long sourceMac()
    {
        return getMac(buffer, offset + SOURCE_OFFSET);
    }

    /**
     * @param mac source MAC in the low 48 bits.
     * @return this.
     */
    public EthernetHeader sourceMac(final long mac)
    {
        putMac(buffer, offset + SOURCE_OFFSET, mac);
        return this;
    }

    /** @return the type field at offset 12: the ethertype, or a TPID when tagged. */
    public int etherType()
    {
        return buffer.getShort(offset + ETHER_TYPE_OFFSET, BIG_ENDIAN) & 0xFFFF;
    }

    /**
     * @param etherType the type field at offset 12.
     * @return this.
     */
    public EthernetHeader etherType(final int etherType)
    {
        buffer.putShort(offset + ETHER_TYPE_OFFSET, (short)etherType, BIG_ENDIAN);
        return this;
    }

    /** @return 0, 1 or 2: how many VLAN tags lb recognises at the start of this frame. */
    public int tagCount()
    {
        if (!isTpid(etherType()))
        {
            return 0;
        }
        return typeAt(OUTER_INNER_TYPE_OFFSET) == TPID_8021Q ? 2 : 1;
    }

    /** @return 14, 18 or 22 by {@link #tagCount()}. */
    public int headerLength()
    {
        return HEADER_LENGTH + TAG_LENGTH * tagCount();
    }

    /** @return VLAN id of the first (outer) tag, or -1 if untagged. */
    public int outerVlanId()
    {
        return tagCount() == 0 ? -1 : buffer.getShort(offset + OUTER_TCI_OFFSET, BIG_ENDIAN) & VLAN_ID_MASK;
    }

    /** @return VLAN id of the second (inner) tag, or -1 if fewer than two tags. */
    public int innerVlanId()
    {
        return tagCount() < 2 ? -1 : buffer.getShort(offset + INNER_TCI_OFFSET, BIG_ENDIAN) & VLAN_ID_MASK;
    }

    /** @return the ethertype after any tags: what the payload is. */
    public int innerEtherType()
    {
        return typeAt(headerLength() - 2);
    }

    /**
     * Whether a type field value is a VLAN tag's TPID lb recognises as the first tag.
     *
     * @param type the 16-bit type field.
     * @return true for 0x8100 and 0x88A8.
     */
    public static boolean isTpid(final int type)
    {
        return type == TPID_8021Q || type == TPID_8021AD;
    }

    /**
     * Read a MAC address.
     *
     * @param buffer holding it.
     * @param index  of its first byte.
     * @return the address in the low 48 bits.
     */
    public static long getMac(final DirectBuffer buffer, final int index)
    {
        return (buffer.getShort(index, BIG_ENDIAN) & 0xFFFFL) << 32 | (buffer.getInt(index + 2, BIG_ENDIAN) & 0xFFFF_FFFFL);
    }

    /**
     * Write a MAC address.
     *
     * @param buffer to write to.
     * @param index  of its first byte.
     * @param mac    the address in the low 48 bits.
     */
    public static void putMac(final MutableDirectBuffer buffer, final int index, final long mac)
    {
        buffer.putShort(index, (short)(mac >>> 32), BIG_ENDIAN);
        buffer.putInt(index + 2, (int)mac, BIG_ENDIAN);
    }

    /**
     * Write an untagged Ethernet header.
     *
     * @param buffer         to write to.
     * @param offset         of the frame.
     * @param destinationMac destination.
     * @param sourceMac      source.
     * @param etherType      of the payload.
     * @return {@link #HEADER_LENGTH}.
     */
    public static int write(
        final MutableDirectBuffer buffer, final int offset, final long destinationMac, final long sourceMac, final int etherType)
    {
        putMac(buffer, offset + DESTINATION_OFFSET, destinationMac);
        putMac(buffer, offset + SOURCE_OFFSET, sourceMac);
        buffer.putShort(offset + ETHER_TYPE_OFFSET, (short)etherType, BIG_ENDIAN);
        return HEADER_LENGTH;
    }

    /**
     * Write an Ethernet header with one 802.1Q tag (priority 0).
     *
     * @param buffer         to write to.
     * @param offset         of the frame.
     * @param destinationMac destination.
     * @param sourceMac      source.
     * @param vlanId         0..4095.
     * @param etherType      of the payload.
     * @return {@link #TAGGED_HEADER_LENGTH}.
     */
    public static int writeTagged(
        final MutableDirectBuffer buffer,
        final int offset,
        final long destinationMac,
        final long sourceMac,
        final int vlanId,
        final int etherType)
    {
        write(buffer, offset, destinationMac, sourceMac, TPID_8021Q);
        buffer.putShort(offset + OUTER_TCI_OFFSET, (short)(vlanId & VLAN_ID_MASK), BIG_ENDIAN);
        buffer.putShort(offset + OUTER_INNER_TYPE_OFFSET, (short)etherType, BIG_ENDIAN);
        return TAGGED_HEADER_LENGTH;
    }

    private int typeAt(final int fieldOffset)
    {
        return buffer.getShort(offset + fieldOffset, BIG_ENDIAN) & 0xFFFF;
    }
}
