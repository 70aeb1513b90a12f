package lb.control.health;

import lb.control.config.IpAddresses;
import lb.dataplane.packet.ArpPacket;
import lb.dataplane.packet.EthernetHeader;
import lb.dataplane.packet.Icmpv6Header;
import lb.dataplane.packet.Ipv6Header;
import lb.dataplane.packet.NeighborDiscovery;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import static java.nio.ByteOrder.BIG_ENDIAN;

/**
 * The frames of the {@link HealthProber}'s probes, by the backend's family: an ARP request from the
 * gateway address for an IPv4 backend, and for an IPv6 one (an alias, see {@link IpAddresses}) its
 * counterpart, a neighbour solicitation (RFC 4861 section 7.2.2) from gateway-ip6 with lb's server
 * MAC in the source link-layer address option, to the backend's solicited-node multicast address
 * and its 33:33 MAC. The backend answers with a neighbour advertisement for its address, which
 * {@link #onIpv6Frame} turns into the prober's "alive at this MAC", as an ARP reply is.
 * <p>
 * Control thread only; no allocation per frame.
 */
public final class NeighborProbes
{
    /** Room for the longest probe: a solicitation with its option (86 bytes) or an ARP request. */
    public static final int MAX_FRAME_LENGTH = Math.max(ArpPacket.FRAME_LENGTH,
        EthernetHeader.HEADER_LENGTH + Ipv6Header.HEADER_LENGTH + NeighborDiscovery.MESSAGE_LENGTH +
        NeighborDiscovery.ETHERNET_ADDRESS_OPTION_LENGTH);

    private final long serverMac;
    private final int gatewayIp;
    private final int gatewayIp6;
    private final NeighborDiscovery message = new NeighborDiscovery();

    /**
     * @param serverMac  lb's MAC on the server side.
     * @param gatewayIp  lb's IPv4 address there, the ARP probes' sender.
     * @param gatewayIp6 the alias of lb's IPv6 address there, the solicitations' source, or 0: none.
     */
    public NeighborProbes(final long serverMac, final int gatewayIp, final int gatewayIp6)
    {
        this.serverMac = serverMac;
        this.gatewayIp = gatewayIp;
        this.gatewayIp6 = gatewayIp6;
    }

    /**
     * Writes the probe of one backend.
     *
     * @param buffer   at least {@link #MAX_FRAME_LENGTH} bytes from {@code offset}.
     * @param offset   where the frame starts.
     * @param targetIp the backend: an IPv4 address or an alias.
     * @return the frame's length, or 0 for an IPv6 backend while lb has no gateway-ip6 (nothing to send from).
     */
    public int writeProbe(final MutableDirectBuffer buffer, final int offset, final int targetIp)
    {
        if (!IpAddresses.isIpv6(targetIp))
        {
            return ArpPacket.writeRequestFrame(buffer, offset, serverMac, gatewayIp, targetIp);
        }
        if (gatewayIp6 == 0)
        {
            return 0;
        }
        return NeighborDiscovery.writeSolicitation(buffer, offset, serverMac, IpAddresses.high(gatewayIp6),
            IpAddresses.low(gatewayIp6), IpAddresses.high(targetIp), IpAddresses.low(targetIp));
    }

    /** @return whether the frame is IPv6 (untagged): {@link #onIpv6Frame} takes it, the IPv4 classifier does not. */
    public static boolean isIpv6(final DirectBuffer buffer, final int index, final int length)
    {
        return length >= EthernetHeader.HEADER_LENGTH &&
            (buffer.getShort(index + EthernetHeader.ETHER_TYPE_OFFSET, BIG_ENDIAN) & 0xFFFF) == Ipv6Header.ETHER_TYPE_IPV6;
    }

    /**
     * An IPv6 frame from the server side. A valid neighbour advertisement for an address lb knows
     * (a backend's) tells the prober that address is alive, at the MAC of its target link-layer
     * address option (or the frame's source when it has none); so does a backend's own
     * solicitation (for lb's gateway-ip6) with a source link-layer address, as any ARP frame from
     * a backend does. Anything else is ignored: the prober only ever hears addresses it probes.
     *
     * @return true when the frame told the prober something.
     */
    public boolean onIpv6Frame(final DirectBuffer buffer, final int index, final int length, final long now,
        final HealthProber prober)
    {
        final int ip = index + EthernetHeader.HEADER_LENGTH;
        if (length < EthernetHeader.HEADER_LENGTH + Ipv6Header.HEADER_LENGTH ||
            (buffer.getByte(ip) & 0xF0) >>> 4 != Ipv6Header.VERSION ||
            (buffer.getByte(ip + Ipv6Header.NEXT_HEADER_OFFSET) & 0xFF) != Icmpv6Header.PROTOCOL_ICMPV6)
        {
            return false;
        }
        final int payloadLength = buffer.getShort(ip + Ipv6Header.PAYLOAD_LENGTH_OFFSET, BIG_ENDIAN) & 0xFFFF;
        if (payloadLength > length - EthernetHeader.HEADER_LENGTH - Ipv6Header.HEADER_LENGTH ||
            message.parse(buffer, ip, ip + Ipv6Header.HEADER_LENGTH, payloadLength) != NeighborDiscovery.Outcome.VALID)
        {
            return false;
        }
        final int alias;
        final long mac;
        if (message.type == Icmpv6Header.TYPE_NEIGHBOR_ADVERTISEMENT)
        {
            alias = IpAddresses.alias(message.targetHigh, message.targetLow);
            mac = message.linkLayerAddress != NeighborDiscovery.NO_LINK_LAYER_ADDRESS ? message.linkLayerAddress :
                EthernetHeader.getMac(buffer, index + EthernetHeader.SOURCE_OFFSET);
        }
        else
        {
            alias = IpAddresses.alias(Ipv6Header.getAddressHigh(buffer, ip + Ipv6Header.SOURCE_OFFSET),
                Ipv6Header.getAddressLow(buffer, ip + Ipv6Header.SOURCE_OFFSET));
            mac = message.linkLayerAddress != NeighborDiscovery.NO_LINK_LAYER_ADDRESS ? message.linkLayerAddress : 0;
        }
        if (alias == 0 || mac == 0 || alias == gatewayIp6)
        {
            return false;
        }
        prober.onArp(alias, mac, now);
        return true;
    }
}
