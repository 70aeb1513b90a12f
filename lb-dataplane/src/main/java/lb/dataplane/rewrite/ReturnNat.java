package lb.dataplane.rewrite;

import lb.dataplane.packet.Ipv4Header;
import lb.dataplane.packet.ParsedFrame;
import org.agrona.MutableDirectBuffer;

/**
 * Backend to client: the source becomes the service. Ethernet destination = client (or next hop)
 * MAC, Ethernet source = egress interface MAC, IPv4 source = VIP, source port = VIP port, TTL
 * decremented, checksums updated incrementally. See {@link RewriteAction} for the result and the
 * refusals.
 */
public final class ReturnNat implements RewriteAction
{
    /** Offset of the source port in both TCP and UDP headers. */
    private static final int SOURCE_PORT_OFFSET = 0;

    /**
     * {@inheritDoc}
     *
     * @param ip   the VIP, the new IPv4 source.
     * @param port the service port, the new source port.
     */
    public boolean apply(
        final MutableDirectBuffer frame,
        final ParsedFrame parsed,
        final long srcMac,
        final long dstMac,
        final int ip,
        final int port)
    {
        return NatRewrite.rewrite(frame, parsed, srcMac, dstMac, Ipv4Header.SOURCE_OFFSET, SOURCE_PORT_OFFSET, ip, port);
    }
}
