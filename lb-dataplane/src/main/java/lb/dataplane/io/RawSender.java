package lb.dataplane.io;

import org.agrona.DirectBuffer;

import java.nio.ByteOrder;

import static lb.dataplane.io.PacketConstants.*;

/**
 * An AF_PACKET socket without a ring, to send one-off frames by copy, such as ARP probes and
 * replies from the control thread. (On a socket with a TX ring, sendto ignores its buffer and only
 * flushes the ring, so one-off frames need a socket of their own.) Bound with protocol 0, it
 * receives nothing. Not thread-safe: one sending thread.
 */
public final class RawSender implements AutoCloseable
{
    /** Largest frame accepted by {@link #send}: a 64 KiB frame, more than any MTU here. */
    public static final int MAX_FRAME_LENGTH = 65536;

    private final String interfaceName;
    private final InterfaceInfo interfaceInfo;
    private final Native.Scratch frame = new Native.Scratch(MAX_FRAME_LENGTH);
    private final Native.Scratch address = new Native.Scratch(SOCKADDR_LL_LENGTH);
    private int fd;
    private int lastErrno;

    private RawSender(final String interfaceName, final InterfaceInfo interfaceInfo, final int fd)
    {
        this.interfaceName = interfaceName;
        this.interfaceInfo = interfaceInfo;
        this.fd = fd;
        address.buffer.putShort(SLL_FAMILY_OFFSET, (short)AF_PACKET);
        address.buffer.putInt(SLL_IFINDEX_OFFSET, interfaceInfo.index());
        address.buffer.putByte(SLL_HALEN_OFFSET, (byte)6);
    }

    /**
     * Open a sender on an interface of the calling thread's network namespace.
     *
     * @param interfaceName e.g. "eth0".
     * @return the sender.
     * @throws PacketIoException with a one-line message naming the interface and the cause.
     */
    public static RawSender open(final String interfaceName)
    {
        final InterfaceInfo info = InterfaceInfo.lookup(interfaceName);
        final int fd = PacketSocket.openPacketSocket(interfaceName);
        return new RawSender(interfaceName, info, fd);
    }

    /**
     * Send one complete Ethernet frame (destination MAC first) now, by copy.
     *
     * @param src    buffer holding the frame.
     * @param offset of the frame.
     * @param length of the frame, 14..{@link #MAX_FRAME_LENGTH}.
     * @return true if the kernel took it; false otherwise, with the reason in {@link #lastErrno()}.
     */
    public boolean send(final DirectBuffer src, final int offset, final int length)
    {
        if (fd < 0)
        {
            throw new IllegalStateException("interface '" + interfaceName + "': sender is closed");
        }
        if (length < 14 || length > MAX_FRAME_LENGTH)
        {
            throw new IllegalArgumentException("interface '" + interfaceName + "': frame length " + length +
                " outside 14.." + MAX_FRAME_LENGTH);
        }
        frame.buffer.putBytes(0, src, offset, length);
        // The EtherType goes into sll_protocol so the kernel sets skb->protocol right.
        address.buffer.putShort(SLL_PROTOCOL_OFFSET, src.getShort(offset + 12, ByteOrder.BIG_ENDIAN), ByteOrder.BIG_ENDIAN);
        final long sent = Native.LIBC.sendto(fd, frame.pointer, length, 0, address.pointer, SOCKADDR_LL_LENGTH);
        if (sent < 0)
        {
            lastErrno = Native.errno();
            return false;
        }
        lastErrno = 0;
        return true;
    }

    /** @return errno of the last failed {@link #send}, 0 after a success. */
    public int lastErrno()
    {
        return lastErrno;
    }

    /** @return the interface as it was when the sender opened. */
    public InterfaceInfo interfaceInfo()
    {
        return interfaceInfo;
    }

    /** Close the socket; later calls do nothing. */
    @Override
    public void close()
    {
        if (fd >= 0)
        {
            Native.LIBC.close(fd);
            fd = -1;
        }
    }
}
