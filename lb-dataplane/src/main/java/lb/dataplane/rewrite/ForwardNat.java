package lb.dataplane.rewrite;

import lb.dataplane.packet.Ipv4Header;
import lb.dataplane.packet.ParsedFrame;
import org.agrona.MutableDirectBuffer;

/**
 * Client to backend: the destination becomes the backend. Ethernet destination = backend (or next
 * hop) MAC, Ethernet source = egress interface MAC, IPv4 destination = backend address, destination
 * port = backend port (a service may map ports), TTL decremented, checksums updated incrementally.
 * See {@link RewriteAction} for the result and the refusals.
 */
public final class ForwardNat implements RewriteAction
{
    /** Offset of the destination port in both TCP and UDP headers. */
    private static final int DESTINATION_PORT_OFFSET = 2;

    /**
     * {@inheritDoc}
     *
     * @param ip   backend address, the new IPv4 destination.
     * @param port backend port, the new destination port.
     */
    public boolean apply(
        final MutableDirectBuffer frame,
        final ParsedFrame parsed,
        final long srcMac,
        final long dstMac,
        final int ip,
        final int port)
    {
        return NatRewrite.rewrite(
            frame, parsed, srcMac, dstMac, Ipv4Header.DESTINATION_OFFSET, DESTINATION_PORT_OFFSET, ip, port);
    }
}
