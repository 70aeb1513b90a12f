package lb.dataplane.pipeline;

import org.agrona.DirectBuffer;

/** Where the pipeline puts a frame it emits: a TX ring, the control ring, or a test's capture. */
@FunctionalInterface
public interface FrameSink
{
    /**
     * Queues a copy of the frame; the caller may reuse the buffer at once.
     *
     * @return false when there is no room (the caller counts the drop)
     */
    boolean send(DirectBuffer buffer, int offset, int length);
}
