package lb.dataplane.pipeline;

import lb.dataplane.packet.DropReason;
import org.agrona.DirectBuffer;

/** Where the pipeline puts a frame it emits: a TX ring, the control ring, or a test's capture. */
@FunctionalInterface
public interface FrameSink
{
    /**
     * Queues a copy of a frame lb made (an ARP or echo reply); the caller may reuse the buffer at once.
     *
     * @return false when there is no room (the caller counts the drop)
     */
    boolean send(DirectBuffer buffer, int offset, int length);

    /**
     * Queues a copy of the frame being handled, rewritten in place: a sink on a socket with
     * virtio-net headers sends the received header along, so the kernel segments a GSO frame and
     * completes a partial checksum.
     *
     * @return false when there is no room (the caller counts the drop)
     */
    default boolean forward(final DirectBuffer buffer, final int offset, final int length)
    {
        return send(buffer, offset, length);
    }

    /**
     * Queues a frame built from the frame being handled with {@code shift} more bytes in front of
     * its L4 header (an IP-in-IP outer header): like {@link #forward}, but a partial checksum's
     * start moves by {@code shift}. Not for GSO super-frames.
     *
     * @return false when there is no room (the caller counts the drop)
     */
    default boolean forwardShifted(final DirectBuffer buffer, final int offset, final int length, final int shift)
    {
        return forward(buffer, offset, length);
    }

    /**
     * Why the last refused {@link #send} or {@link #forward} refused, for the drop counter.
     *
     * @return {@link DropReason#OVERSIZE_FRAME} or {@link DropReason#TX_RING_FULL} (the default).
     */
    default DropReason lastRefusal()
    {
        return DropReason.TX_RING_FULL;
    }
}
