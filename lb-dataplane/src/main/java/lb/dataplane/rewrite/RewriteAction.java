package lb.dataplane.rewrite;

import lb.dataplane.packet.DropReason;
import lb.dataplane.packet.ParsedFrame;
import org.agrona.MutableDirectBuffer;

/**
 * Rewrites a classified frame in place for transmission. Implementations are stateless, allocate
 * nothing and never throw for packet content.
 * <p>
 * The result follows the classifier's convention: {@code true} means the frame was rewritten and
 * is to be sent; {@code false} means the frame is left exactly as it was and must be dropped, with
 * {@link ParsedFrame#dropReason} set to why. For the NAT actions the reasons are
 * {@link DropReason#TTL_EXCEEDED} (the caller may answer with ICMP time exceeded, from the
 * untouched frame) and {@link DropReason#UNSUPPORTED_PROTOCOL} (a frame that is neither TCP nor
 * UDP: a caller bug, as the pipeline only sends those here). No enum constant stands for "no drop".
 * <p>
 * The {@code parsed} fields keep describing the frame as received (see {@link ParsedFrame}).
 */
public interface RewriteAction
{
    /**
     * Rewrite one frame.
     *
     * @param frame  buffer holding the frame at {@code parsed.frameOffset}.
     * @param parsed the frame as {@code FrameClassifier} classified it (IPV4_TCP or IPV4_UDP).
     * @param srcMac new Ethernet source: the egress interface's MAC.
     * @param dstMac new Ethernet destination: the next hop's MAC.
     * @param ip     the new IPv4 address (which one, source or destination, depends on the action).
     * @param port   the new port (likewise).
     * @return true to transmit; false to drop, frame untouched, {@code parsed.dropReason} set.
     */
    boolean apply(MutableDirectBuffer frame, ParsedFrame parsed, long srcMac, long dstMac, int ip, int port);
}
