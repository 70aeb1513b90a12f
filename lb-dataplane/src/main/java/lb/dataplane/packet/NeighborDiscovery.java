package lb.dataplane.packet;

import lb.dataplane.checksum.Checksums;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import static java.nio.ByteOrder.BIG_ENDIAN;

/**
 * Neighbour solicitations and advertisements (RFC 4861 sections 4.3, 4.4, 7.1), IPv6's ARP, with
 * their source and target link-layer address options over Ethernet (RFC 2464 section 6). The
 * static methods write whole frames; an instance {@link #parse}s one message into its fields,
 * checking it as RFC 4861 section 7.1 requires, allocation-free and reused per worker.
 * <pre>
 *   ICMPv6: 0 type  1 code  2 checksum  4 flags (advertisement: R S O) | reserved  8 target (16 bytes)
 *           24 options: 0 type  1 length (8-byte units, 0 invalid)  2 link-layer address (6 bytes)
 * </pre>
 */
public final class NeighborDiscovery
{
    /** Why {@link #parse} accepted or refused a message. */
    public enum Outcome
    {
        /** A valid solicitation or advertisement; the fields hold it. */
        VALID,
        /** Not type 135 or 136. */
        NOT_NEIGHBOR_DISCOVERY,
        /** Shorter than the 24 bytes every solicitation and advertisement has. */
        TOO_SHORT,
        /** Hop limit not 255: the message may come from off-link (RFC 4861 section 7.1). */
        BAD_HOP_LIMIT,
        /** Code not 0. */
        BAD_CODE,
        /** The ICMPv6 checksum does not verify. */
        BAD_CHECKSUM,
        /** The target is a multicast address. */
        MULTICAST_TARGET,
        /** An option with length 0, or one running past the message's end. */
        BAD_OPTION_LENGTH,
        /** A link-layer address option whose length is not the 8 bytes of an Ethernet one. */
        BAD_LINK_LAYER_OPTION,
        /** A solicitation from the unspecified address (duplicate address detection) not to a solicited-node address, or with a source link-layer address. */
        BAD_UNSPECIFIED_SOURCE,
        /** An advertisement to a multicast address with the solicited flag set. */
        SOLICITED_TO_MULTICAST
    }

    /** Offset of an advertisement's flags byte. */
    public static final int FLAGS_OFFSET = 4;
    /** Offset of the target address. */
    public static final int TARGET_OFFSET = 8;
    /** Offset of the first option. */
    public static final int OPTIONS_OFFSET = 24;
    /** Length of a solicitation or advertisement without options. */
    public static final int MESSAGE_LENGTH = OPTIONS_OFFSET;

    /** Advertisement flag: the sender is a router. */
    public static final int FLAG_ROUTER = 0x80;
    /** Advertisement flag: sent in response to a solicitation. */
    public static final int FLAG_SOLICITED = 0x40;
    /** Advertisement flag: override an existing cache entry. */
    public static final int FLAG_OVERRIDE = 0x20;

    /** Offset of an option's type. */
    public static final int OPTION_TYPE_OFFSET = 0;
    /** Offset of an option's length (in {@link #OPTION_UNIT}s). */
    public static final int OPTION_LENGTH_OFFSET = 1;
    /** Offset of a link-layer address option's address. */
    public static final int OPTION_ADDRESS_OFFSET = 2;
    /** The option length unit. */
    public static final int OPTION_UNIT = 8;
    /** Length of a link-layer address option holding a MAC: type, length and 6 bytes. */
    public static final int ETHERNET_ADDRESS_OPTION_LENGTH = 8;
    /** Option type: source link-layer address. */
    public static final int OPTION_SOURCE_LINK_LAYER_ADDRESS = 1;
    /** Option type: target link-layer address. */
    public static final int OPTION_TARGET_LINK_LAYER_ADDRESS = 2;

    /** The hop limit every neighbour discovery message is sent and must arrive with. */
    public static final int HOP_LIMIT = 255;
    /** High 64 bits of every solicited-node multicast address, ff02::1:ffXX:XXXX (RFC 4291 section 2.7.1). */
    public static final long SOLICITED_NODE_HIGH = 0xFF02_0000_0000_0000L;
    /** Low 64 bits of a solicited-node address before the target's low 24 bits are added. */
    public static final long SOLICITED_NODE_LOW_PREFIX = 0x0000_0001_FF00_0000L;
    /** Ethernet multicast MACs of IPv6 multicast addresses are 33:33 and the address's low 32 bits (RFC 2464 section 7). */
    public static final long IPV6_MULTICAST_MAC_PREFIX = 0x3333_0000_0000L;
    /** No link-layer address option was present. */
    public static final long NO_LINK_LAYER_ADDRESS = -1;

    /** Type of the message parsed: {@link Icmpv6Header#TYPE_NEIGHBOR_SOLICITATION} or advertisement. */
    public int type;
    /** Advertisement flags ({@link #FLAG_ROUTER} and so on), 0 for a solicitation. */
    public int flags;
    /** Target address, high 64 bits. */
    public long targetHigh;
    /** Target address, low 64 bits. */
    public long targetLow;
    /**
     * The MAC in the source (solicitation) or target (advertisement) link-layer address option, or
     * {@link #NO_LINK_LAYER_ADDRESS}. The other kind of option is ignored, as unknown ones are.
     */
    public long linkLayerAddress;

    /**
     * Check and read a neighbour solicitation or advertisement.
     *
     * @param buffer     holding the packet.
     * @param ipOffset   of its IPv6 header (hop limit, addresses, the checksum's pseudo-header).
     * @param icmpOffset of the ICMPv6 message.
     * @param icmpLength of the ICMPv6 message, options included, all inside the buffer.
     * @return {@link Outcome#VALID} and the fields filled, or why not.
     */
    public Outcome parse(final DirectBuffer buffer, final int ipOffset, final int icmpOffset, final int icmpLength)
    {
        type = 0;
        flags = 0;
        targetHigh = 0;
        targetLow = 0;
        linkLayerAddress = NO_LINK_LAYER_ADDRESS;

        if (icmpLength < Icmpv6Header.HEADER_LENGTH)
        {
            return Outcome.TOO_SHORT;
        }
        final int messageType = buffer.getByte(icmpOffset + Icmpv6Header.TYPE_OFFSET) & 0xFF;
        if (messageType != Icmpv6Header.TYPE_NEIGHBOR_SOLICITATION && messageType != Icmpv6Header.TYPE_NEIGHBOR_ADVERTISEMENT)
        {
            return Outcome.NOT_NEIGHBOR_DISCOVERY;
        }
        if (icmpLength < MESSAGE_LENGTH)
        {
            return Outcome.TOO_SHORT;
        }
        if ((buffer.getByte(ipOffset + Ipv6Header.HOP_LIMIT_OFFSET) & 0xFF) != HOP_LIMIT)
        {
            return Outcome.BAD_HOP_LIMIT;
        }
        if (buffer.getByte(icmpOffset + Icmpv6Header.CODE_OFFSET) != 0)
        {
            return Outcome.BAD_CODE;
        }
        if (!Checksums.ipv6L4ChecksumValid(buffer, ipOffset, icmpOffset, icmpLength, Icmpv6Header.PROTOCOL_ICMPV6))
        {
            return Outcome.BAD_CHECKSUM;
        }
        final long high = Ipv6Header.getAddressHigh(buffer, icmpOffset + TARGET_OFFSET);
        if (isMulticast(high))
        {
            return Outcome.MULTICAST_TARGET;
        }

        final boolean solicitation = messageType == Icmpv6Header.TYPE_NEIGHBOR_SOLICITATION;
        final int wantedOption = solicitation ? OPTION_SOURCE_LINK_LAYER_ADDRESS : OPTION_TARGET_LINK_LAYER_ADDRESS;
        long mac = NO_LINK_LAYER_ADDRESS;
        final int end = icmpOffset + icmpLength;
        int option = icmpOffset + OPTIONS_OFFSET;
        // Each option is at least 8 bytes, so the loop runs at most icmpLength / 8 times.
        while (option < end)
        {
            if (end - option < OPTION_UNIT)
            {
                return Outcome.BAD_OPTION_LENGTH;
            }
            final int length = (buffer.getByte(option + OPTION_LENGTH_OFFSET) & 0xFF) * OPTION_UNIT;
            if (length == 0 || length > end - option)
            {
                return Outcome.BAD_OPTION_LENGTH;
            }
            if ((buffer.getByte(option + OPTION_TYPE_OFFSET) & 0xFF) == wantedOption)
            {
                if (length != ETHERNET_ADDRESS_OPTION_LENGTH)
                {
                    return Outcome.BAD_LINK_LAYER_OPTION;
                }
                mac = EthernetHeader.getMac(buffer, option + OPTION_ADDRESS_OFFSET);
            }
            option += length;
        }

        final long destinationHigh = Ipv6Header.getAddressHigh(buffer, ipOffset + Ipv6Header.DESTINATION_OFFSET);
        final int messageFlags = solicitation ? 0 : buffer.getByte(icmpOffset + FLAGS_OFFSET) & 0xE0;
        if (solicitation &&
            Ipv6Header.getAddressHigh(buffer, ipOffset + Ipv6Header.SOURCE_OFFSET) == 0 &&
            Ipv6Header.getAddressLow(buffer, ipOffset + Ipv6Header.SOURCE_OFFSET) == 0 &&
            (mac != NO_LINK_LAYER_ADDRESS || !isSolicitedNode(destinationHigh,
                Ipv6Header.getAddressLow(buffer, ipOffset + Ipv6Header.DESTINATION_OFFSET))))
        {
            return Outcome.BAD_UNSPECIFIED_SOURCE;
        }
        if (!solicitation && isMulticast(destinationHigh) && (messageFlags & FLAG_SOLICITED) != 0)
        {
            return Outcome.SOLICITED_TO_MULTICAST;
        }

        type = messageType;
        flags = messageFlags;
        targetHigh = high;
        targetLow = Ipv6Header.getAddressLow(buffer, icmpOffset + TARGET_OFFSET);
        linkLayerAddress = mac;
        return Outcome.VALID;
    }

    /**
     * Write an untagged neighbour solicitation frame for {@code target}, to its solicited-node
     * multicast address and that address's Ethernet multicast MAC, with a source link-layer address
     * option (left out when the source is the unspecified address, as RFC 4861 section 4.3 demands).
     *
     * @param buffer     to write to.
     * @param offset     of the frame.
     * @param sourceMac  the MAC soliciting, also the option's address.
     * @param sourceHigh IPv6 source, high 64 bits.
     * @param sourceLow  IPv6 source, low 64 bits.
     * @param targetHigh address being resolved, high 64 bits.
     * @param targetLow  address being resolved, low 64 bits.
     * @return the frame's length.
     */
    public static int writeSolicitation(
        final MutableDirectBuffer buffer,
        final int offset,
        final long sourceMac,
        final long sourceHigh,
        final long sourceLow,
        final long targetHigh,
        final long targetLow)
    {
        final long groupLow = solicitedNodeLow(targetLow);
        final int optionsLength = sourceHigh == 0 && sourceLow == 0 ? 0 : ETHERNET_ADDRESS_OPTION_LENGTH;
        return writeMessage(buffer, offset, multicastMac(groupLow), sourceMac, sourceHigh, sourceLow,
            SOLICITED_NODE_HIGH, groupLow, Icmpv6Header.TYPE_NEIGHBOR_SOLICITATION, 0, targetHigh, targetLow,
            OPTION_SOURCE_LINK_LAYER_ADDRESS, optionsLength);
    }

    /**
     * Write an untagged neighbour advertisement frame for {@code target}, with a target link-layer
     * address option naming {@code sourceMac}.
     *
     * @param buffer          to write to.
     * @param offset          of the frame.
     * @param destinationMac  Ethernet destination (the solicitor's MAC).
     * @param sourceMac       the MAC advertised, also the Ethernet source.
     * @param sourceHigh      IPv6 source, high 64 bits.
     * @param sourceLow       IPv6 source, low 64 bits.
     * @param destinationHigh IPv6 destination, high 64 bits (the solicitor).
     * @param destinationLow  IPv6 destination, low 64 bits.
     * @param targetHigh      address advertised, high 64 bits.
     * @param targetLow       address advertised, low 64 bits.
     * @param flags           {@link #FLAG_ROUTER}, {@link #FLAG_SOLICITED}, {@link #FLAG_OVERRIDE} or'ed.
     * @return the frame's length.
     */
    public static int writeAdvertisement(
        final MutableDirectBuffer buffer,
        final int offset,
        final long destinationMac,
        final long sourceMac,
        final long sourceHigh,
        final long sourceLow,
        final long destinationHigh,
        final long destinationLow,
        final long targetHigh,
        final long targetLow,
        final int flags)
    {
        return writeMessage(buffer, offset, destinationMac, sourceMac, sourceHigh, sourceLow, destinationHigh,
            destinationLow, Icmpv6Header.TYPE_NEIGHBOR_ADVERTISEMENT, flags, targetHigh, targetLow,
            OPTION_TARGET_LINK_LAYER_ADDRESS, ETHERNET_ADDRESS_OPTION_LENGTH);
    }

    /**
     * @param targetLow low 64 bits of a unicast address.
     * @return low 64 bits of its solicited-node multicast address (the high ones are {@link #SOLICITED_NODE_HIGH}).
     */
    public static long solicitedNodeLow(final long targetLow)
    {
        return SOLICITED_NODE_LOW_PREFIX | targetLow & 0xFF_FFFFL;
    }

    /**
     * @param high high 64 bits of an address.
     * @param low  low 64 bits.
     * @return whether it is a solicited-node multicast address.
     */
    public static boolean isSolicitedNode(final long high, final long low)
    {
        return high == SOLICITED_NODE_HIGH && (low & ~0xFF_FFFFL) == SOLICITED_NODE_LOW_PREFIX;
    }

    /**
     * @param multicastLow low 64 bits of an IPv6 multicast address.
     * @return its Ethernet MAC, 33:33 and the address's low 32 bits.
     */
    public static long multicastMac(final long multicastLow)
    {
        return IPV6_MULTICAST_MAC_PREFIX | multicastLow & 0xFFFF_FFFFL;
    }

    /**
     * @param high high 64 bits of an address.
     * @return whether the address is multicast (ff00::/8).
     */
    public static boolean isMulticast(final long high)
    {
        return high >>> 56 == 0xFF;
    }

    private static int writeMessage(
        final MutableDirectBuffer buffer,
        final int offset,
        final long destinationMac,
        final long sourceMac,
        final long sourceHigh,
        final long sourceLow,
        final long destinationHigh,
        final long destinationLow,
        final int type,
        final int flags,
        final long targetHigh,
        final long targetLow,
        final int optionType,
        final int optionsLength)
    {
        final int icmpLength = MESSAGE_LENGTH + optionsLength;
        final int icmp = Icmpv6Header.writeFrameHeaders(buffer, offset, destinationMac, sourceMac, sourceHigh, sourceLow,
            destinationHigh, destinationLow, HOP_LIMIT, icmpLength, type);
        buffer.putInt(icmp + FLAGS_OFFSET, flags << 24, BIG_ENDIAN);
        Ipv6Header.putAddress(buffer, icmp + TARGET_OFFSET, targetHigh, targetLow);
        if (optionsLength > 0)
        {
            final int option = icmp + OPTIONS_OFFSET;
            buffer.putByte(option + OPTION_TYPE_OFFSET, (byte)optionType);
            buffer.putByte(option + OPTION_LENGTH_OFFSET, (byte)(ETHERNET_ADDRESS_OPTION_LENGTH / OPTION_UNIT));
            EthernetHeader.putMac(buffer, option + OPTION_ADDRESS_OFFSET, sourceMac);
        }
        return Icmpv6Header.storeChecksum(buffer, offset, icmpLength);
    }
}
