package lb.control.config;

import java.time.Duration;
import java.util.Objects;

/**
 * How long an idle flow keeps its backend, per flow state (the same states IPVS times out).
 *
 * @param tcpSyn         a TCP flow that has seen a SYN but no reply yet: short, so SYN floods
 *                       do not fill the flow table.
 * @param tcpEstablished an established TCP flow.
 * @param tcpClosing     a TCP flow after FIN or RST.
 * @param udp            a UDP flow (there is no state to see, only idleness).
 */
public record FlowTimeouts(Duration tcpSyn, Duration tcpEstablished, Duration tcpClosing, Duration udp)
{
    /** Rejects nulls. */
    public FlowTimeouts
    {
        Objects.requireNonNull(tcpSyn, "tcpSyn");
        Objects.requireNonNull(tcpEstablished, "tcpEstablished");
        Objects.requireNonNull(tcpClosing, "tcpClosing");
        Objects.requireNonNull(udp, "udp");
    }
}
