package lb.dataplane.worker;

import lb.dataplane.io.PacketSocket;
import lb.dataplane.packet.DropReason;
import lb.dataplane.pipeline.FrameSink;
import org.agrona.DirectBuffer;

/**
 * The pipeline's output to one packet socket. A forwarded frame goes with the virtio-net header it
 * arrived with, so the kernel segments a GSO frame and completes a partial checksum; a frame lb
 * made (ARP or echo reply) goes with an empty header.
 */
public final class SocketSink implements FrameSink
{
    private final PacketSocket socket;
    private final RxFrameContext rx;

    public SocketSink(final PacketSocket socket, final RxFrameContext rx)
    {
        this.socket = socket;
        this.rx = rx;
    }

    @Override
    public boolean send(final DirectBuffer buffer, final int offset, final int length)
    {
        return socket.send(buffer, offset, length);
    }

    @Override
    public DropReason lastRefusal()
    {
        return socket.lastRefusalWasOversize() ? DropReason.OVERSIZE_FRAME : DropReason.TX_RING_FULL;
    }

    @Override
    public boolean forward(final DirectBuffer buffer, final int offset, final int length)
    {
        return rx.hasVnet ? socket.send(buffer, offset, length, rx.vnet) : socket.send(buffer, offset, length);
    }
}
