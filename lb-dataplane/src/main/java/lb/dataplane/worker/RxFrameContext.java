package lb.dataplane.worker;

import lb.dataplane.io.VnetHeader;

/**
 * What the worker knows about the frame it is handling beyond its bytes: its virtio-net header,
 * when the sockets use them. The worker sets it before the pipeline runs; the {@link SocketSink}s
 * read it to send a forwarded frame with its header. One per worker thread.
 */
public final class RxFrameContext
{
    final VnetHeader vnet = new VnetHeader();
    boolean hasVnet;
}
