package lb.dataplane.rewrite;

import lb.dataplane.checksum.Checksums;
import lb.dataplane.packet.EthernetHeader;
import lb.dataplane.packet.Ipv6Header;
import lb.dataplane.packet.ParsedFrame;
import org.agrona.MutableDirectBuffer;

import static java.nio.ByteOrder.BIG_ENDIAN;

/**
 * Direct server return (like IPVS-DR and Maglev): only the Ethernet addresses change, the frame
 * goes to the backend's MAC from lb's server-side MAC. The IP header, the ports and the TTL stay
 * as the client sent them: the backend holds the VIP itself, so for IP lb is part of the VIP's
 * host rather than a router hop (IPVS-DR does not decrement either). Nothing covered by a
 * checksum changes, so none is updated; a GSO super-frame or a partially checksummed frame goes
 * out as it came, with its virtio-net header. Only a partial L4 checksum that no one would
 * complete (no virtio-net header on transmit) is finished here. The same holds for IPv6 (hop limit
 * untouched), whose checksum is finished over the IPv6 pseudo-header.
 */
public final class DsrRewrite
{
    private DsrRewrite()
    {
    }

    /**
     * @param srcMac lb's server-side MAC.
     * @param dstMac the backend's MAC.
     */
    public static void apply(final MutableDirectBuffer frame, final ParsedFrame parsed, final long srcMac, final long dstMac)
    {
        EthernetHeader.putMac(frame, parsed.frameOffset + EthernetHeader.DESTINATION_OFFSET, dstMac);
        EthernetHeader.putMac(frame, parsed.frameOffset + EthernetHeader.SOURCE_OFFSET, srcMac);
        completePartialChecksum(frame, parsed);
    }

    /** Writes the full L4 checksum when the field holds only the pseudo-header sum and transmit will not finish it. */
    static void completePartialChecksum(final MutableDirectBuffer frame, final ParsedFrame parsed)
    {
        if (parsed.l4ChecksumPartial && !parsed.txCompletesChecksum)
        {
            final int full = parsed.etherType == Ipv6Header.ETHER_TYPE_IPV6 ?
                Checksums.ipv6L4Checksum(frame, parsed.l3Offset, parsed.l4Offset, parsed.l4Length, parsed.protocol) :
                Checksums.l4Checksum(frame, parsed.l3Offset, parsed.l4Offset, parsed.l4Length, parsed.protocol);
            frame.putShort(parsed.l4Offset + Checksums.l4ChecksumOffset(parsed.protocol), (short)full, BIG_ENDIAN);
            parsed.l4ChecksumPartial = false;
        }
    }
}
