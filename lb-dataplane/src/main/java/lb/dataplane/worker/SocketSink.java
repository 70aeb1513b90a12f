package lb.dataplane.worker;

import lb.dataplane.io.PacketSocket;
import lb.dataplane.io.VnetHeader;
import lb.dataplane.packet.DropReason;
import lb.dataplane.pipeline.FrameSink;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The pipeline's output to one packet socket. A forwarded frame goes with the virtio-net header it
 * arrived with, so the kernel segments a GSO frame and completes a partial checksum; a frame lb
 * made (ARP or echo reply) goes with an empty header.
 */
public final class SocketSink implements FrameSink
{
    private final PacketSocket socket;
    private final RxFrameContext rx;
    private final UnsafeBuffer shiftedHeaderBytes = new UnsafeBuffer(new byte[VnetHeader.LENGTH]);
    private final VnetHeader shiftedHeader = new VnetHeader();

    public SocketSink(final PacketSocket socket, final RxFrameContext rx)
    {
        this.socket = socket;
        this.rx = rx;
        shiftedHeader.wrap(shiftedHeaderBytes, 0);
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

    @Override
    public boolean forwardShifted(final DirectBuffer buffer, final int offset, final int length, final int shift)
    {
        if (!rx.hasVnet)
        {
            return socket.send(buffer, offset, length);
        }
        shiftedHeaderBytes.putBytes(0, rx.vnet.buffer(), rx.vnet.offset(), VnetHeader.LENGTH);
        if ((shiftedHeader.flags() & VnetHeader.F_NEEDS_CSUM) != 0)
        {
            shiftedHeader.csumStart(shiftedHeader.csumStart() + shift);
        }
        return socket.send(buffer, offset, length, shiftedHeader);
    }
}
