package lb.dataplane.io;

import jnr.ffi.Pointer;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteOrder;

import static lb.dataplane.io.PacketConstants.*;

/**
 * An AF_PACKET raw socket bound to one interface, with a PACKET_MMAP RX ring and TX ring in one
 * mapping, read and written zero-copy through Agrona buffers.
 * <p>
 * Setup order (the one that works on Linux 6.x): socket with protocol 0 (nothing is queued before
 * bind), PACKET_VERSION, PACKET_VNET_HDR, PACKET_LOSS, PACKET_QDISC_BYPASS, PACKET_RX_RING,
 * PACKET_TX_RING, one mmap of RX then TX, bind with ETH_P_ALL, then PACKET_FANOUT (needs the bind)
 * and, for a PACKET_FANOUT_CBPF group, PACKET_FANOUT_DATA with its program (needs the join), or
 * PACKET_IGNORE_OUTGOING.
 * <p>
 * Threading: {@link #receive}, {@link #send}, {@link #flush}, {@link #waitForInput} and
 * {@link #close} belong to one owner thread. The counter getters may be called from any thread;
 * {@link #pollKernelStatistics()} from any one thread at a time.
 */
public final class PacketSocket implements AutoCloseable
{
    private static final int COUNTER_RX_FRAMES = 0;
    private static final int COUNTER_RX_BYTES = 8;
    private static final int COUNTER_RX_TRUNCATED = 16;
    private static final int COUNTER_TX_FRAMES = 24;
    private static final int COUNTER_TX_BYTES = 32;
    private static final int COUNTER_TX_RING_FULL = 40;
    private static final int COUNTER_TX_OVERSIZE = 48;
    private static final int COUNTER_KERNEL_PACKETS = 56;
    private static final int COUNTER_KERNEL_DROPS = 64;
    private static final int COUNTER_KERNEL_FREEZE_Q = 72;
    private static final int COUNTER_SOCKET_ERRORS = 80;
    private static final int COUNTERS_LENGTH = 88;

    private static final int SOL_SOCKET = 1;
    private static final int ETHERNET_HEADER_LENGTH = 14;
    private static final int VLAN_TAG_LENGTH = 4;
    private static final int ETHERTYPE_OFFSET = 12;
    private static final int TCP_DATA_OFFSET_OFFSET = 12;
    private static final int UDP_HEADER_LENGTH = 8;
    private static final int SO_ERROR = 4;

    private final String interfaceName;
    private final InterfaceInfo interfaceInfo;
    private final RingConfig config;
    private final boolean v3;
    private final boolean vnet;
    private final int vnetLength;
    private int fd;
    private long mapAddress;
    private final long mapLength;

    private final UnsafeBuffer rxRing;
    private final int[] rxFrameOffsets;
    private int rxIndex;
    private final int rxBlockSize;
    private final int rxBlockCount;
    private int rxBlockIndex;
    private int rxPacketsLeft;
    private int rxPacketOffset;

    private final UnsafeBuffer txRing;
    private final int[] txFrameOffsets;
    private final int txStatusOffset;
    private final int txLengthOffset;
    private final int txDataOffset;
    private final int txCapacity;
    private final int txMaxFrame;
    private int txProducer;
    private int txConsumer;
    private boolean lastRefusalOversize;
    private int txInFlight;
    private int txLastQueuedFrame = -1;
    private boolean txNeedsKick;

    private final UnsafeBuffer counters = new UnsafeBuffer(new byte[COUNTERS_LENGTH]);
    private final Native.Scratch pollFd = new Native.Scratch(POLLFD_LENGTH);
    private final Native.Scratch statistics = new Native.Scratch(16);
    private final Native.Scratch statisticsLength = new Native.Scratch(8);
    private final Native.Scratch socketError = new Native.Scratch(8);
    private final Pointer socketErrorLength = socketError.at(4);

    private PacketSocket(
        final String interfaceName,
        final InterfaceInfo interfaceInfo,
        final RingConfig config,
        final int fd,
        final long mapAddress,
        final long mapLength)
    {
        this.interfaceName = interfaceName;
        this.interfaceInfo = interfaceInfo;
        this.config = config;
        this.v3 = config.version() == RingConfig.Version.V3;
        this.vnet = config.vnetHeader();
        this.vnetLength = vnet ? VnetHeader.LENGTH : 0;
        this.fd = fd;
        this.mapAddress = mapAddress;
        this.mapLength = mapLength;

        final int rxBytes = (int)config.rxRingBytes();
        rxRing = new UnsafeBuffer(mapAddress, rxBytes);
        rxBlockSize = config.rxBlockSize();
        rxBlockCount = config.rxBlockCount();
        rxFrameOffsets = v3 ? null : frameOffsets(config.rxFrameSize(), config.rxBlockSize(), config.rxBlockCount());

        txRing = new UnsafeBuffer(mapAddress + rxBytes, (int)config.txRingBytes());
        txFrameOffsets = frameOffsets(config.txFrameSize(), config.txBlockSize(), config.txBlockCount());
        txStatusOffset = v3 ? TP3_STATUS_OFFSET : TP2_STATUS_OFFSET;
        txLengthOffset = v3 ? TP3_LEN_OFFSET : TP2_LEN_OFFSET;
        txDataOffset = v3 ? TP3_TX_DATA_OFFSET : TP2_TX_DATA_OFFSET;
        txCapacity = config.txFrameCapacity();
        txMaxFrame = interfaceInfo.mtu() + ETHERNET_HEADER_LENGTH;

        pollFd.buffer.putInt(POLLFD_FD_OFFSET, fd);
    }

    /**
     * Open a packet socket on an interface of the calling thread's network namespace.
     *
     * @param interfaceName e.g. "eth0".
     * @param config        rings and options.
     * @return the open socket.
     * @throws PacketIoException with a one-line message naming the interface and the cause.
     */
    public static PacketSocket open(final String interfaceName, final RingConfig config)
    {
        final InterfaceInfo info = InterfaceInfo.lookup(interfaceName);
        if (!info.isUp())
        {
            throw new PacketIoException("interface '" + interfaceName + "' is down (set it up first)", 0);
        }
        if (!info.isEthernet())
        {
            throw new PacketIoException("interface '" + interfaceName + "' is not Ethernet (hardware type " +
                info.hardwareType() + ")", 0);
        }

        final LibC libc = Native.LIBC;
        final int fd = openPacketSocket(interfaceName);
        long mapAddress = -1;
        final long mapLength = config.rxRingBytes() + config.txRingBytes();
        try
        {
            final Native.Scratch option = new Native.Scratch(TPACKET_REQ3_LENGTH);
            setIntOption(fd, option, PACKET_VERSION, config.version().kernelValue, interfaceName, "PACKET_VERSION");
            if (config.vnetHeader())
            {
                setIntOption(fd, option, PACKET_VNET_HDR, 1, interfaceName, "PACKET_VNET_HDR");
            }
            // Without PACKET_LOSS one malformed TX frame is marked WRONG_FORMAT and stops the TX ring.
            setIntOption(fd, option, PACKET_LOSS, 1, interfaceName, "PACKET_LOSS");
            if (config.qdiscBypass())
            {
                setIntOption(fd, option, PACKET_QDISC_BYPASS, 1, interfaceName, "PACKET_QDISC_BYPASS");
            }
            setRing(fd, option, PACKET_RX_RING, config, interfaceName);
            setRing(fd, option, PACKET_TX_RING, config, interfaceName);

            mapAddress = libc.mmap(null, mapLength, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
            if (-1 == mapAddress)
            {
                throw PacketIoException.ofErrno("interface '" + interfaceName + "': mmap of " + mapLength +
                    " bytes of rings failed", Native.errno());
            }

            final Native.Scratch address = new Native.Scratch(SOCKADDR_LL_LENGTH);
            address.buffer.putShort(SLL_FAMILY_OFFSET, (short)AF_PACKET);
            address.buffer.putShort(SLL_PROTOCOL_OFFSET, (short)ETH_P_ALL, ByteOrder.BIG_ENDIAN);
            address.buffer.putInt(SLL_IFINDEX_OFFSET, info.index());
            if (libc.bind(fd, address.pointer, SOCKADDR_LL_LENGTH) < 0)
            {
                throw PacketIoException.ofErrno("interface '" + interfaceName + "': bind", Native.errno());
            }

            if (config.hasFanout())
            {
                final int flags = config.fanoutFlags() |
                    (config.ignoreOutgoing() ? PACKET_FANOUT_FLAG_IGNORE_OUTGOING : 0);
                final int value = config.fanoutGroup() | ((config.fanoutMode() | flags) << 16);
                setIntOption(fd, option, PACKET_FANOUT, value, interfaceName,
                    "PACKET_FANOUT group " + config.fanoutGroup() + " mode " + config.fanoutMode() +
                    " flags 0x" + Integer.toHexString(flags));
                if (null != config.fanoutProgram())
                {
                    setFanoutProgram(fd, config.fanoutProgram(), interfaceName, config.fanoutGroup());
                }
            }
            else if (config.ignoreOutgoing())
            {
                // A fanout member ignores this option; the fanout flag above does the same job there.
                setIntOption(fd, option, PACKET_IGNORE_OUTGOING, 1, interfaceName, "PACKET_IGNORE_OUTGOING");
            }

            return new PacketSocket(interfaceName, info, config, fd, mapAddress, mapLength);
        }
        catch (final RuntimeException ex)
        {
            if (-1 != mapAddress)
            {
                libc.munmap(mapAddress, mapLength);
            }
            libc.close(fd);
            throw ex;
        }
    }

    static int openPacketSocket(final String interfaceName)
    {
        final int fd = Native.LIBC.socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
        if (fd < 0)
        {
            final int errno = Native.errno();
            if (EPERM == errno || EACCES == errno)
            {
                throw new PacketIoException("interface '" + interfaceName +
                    "': AF_PACKET needs root or CAP_NET_RAW (" + Native.strerror(errno) + ")", errno);
            }
            throw PacketIoException.ofErrno("interface '" + interfaceName + "': socket(AF_PACKET)", errno);
        }
        return fd;
    }

    private static void setIntOption(
        final int fd, final Native.Scratch option, final int name, final int value,
        final String interfaceName, final String what)
    {
        option.buffer.putInt(0, value);
        if (Native.LIBC.setsockopt(fd, SOL_PACKET, name, option.pointer, 4) < 0)
        {
            throw PacketIoException.ofErrno("interface '" + interfaceName + "': " + what, Native.errno());
        }
    }

    /**
     * Attaches a classic-BPF steering program to the socket's fanout group (PACKET_FANOUT_DATA with a
     * {@code struct sock_fprog}). The kernel takes it only after the join and applies it to the group.
     */
    private static void setFanoutProgram(
        final int fd, final FanoutProgram program, final String interfaceName, final int group)
    {
        final Native.Scratch filter = new Native.Scratch(program.length() * FanoutProgram.SOCK_FILTER_LENGTH);
        program.writeTo(filter.buffer, 0);
        final Native.Scratch fprog = new Native.Scratch(SOCK_FPROG_LENGTH);
        fprog.buffer.putShort(SOCK_FPROG_LEN_OFFSET, (short)program.length());
        fprog.buffer.putLong(SOCK_FPROG_FILTER_OFFSET, filter.buffer.addressOffset());
        final int result = Native.LIBC.setsockopt(fd, SOL_PACKET, PACKET_FANOUT_DATA, fprog.pointer, SOCK_FPROG_LENGTH);
        // The filter memory must stay reachable until the call has copied it.
        java.lang.ref.Reference.reachabilityFence(filter);
        if (result < 0)
        {
            throw PacketIoException.ofErrno("interface '" + interfaceName + "': PACKET_FANOUT_DATA (" + program +
                ") for fanout group " + group, Native.errno());
        }
    }

    private static void setRing(
        final int fd, final Native.Scratch option, final int name, final RingConfig config, final String interfaceName)
    {
        final boolean rx = PACKET_RX_RING == name;
        final int frameSize = rx ? config.rxFrameSize() : config.txFrameSize();
        final int blockSize = rx ? config.rxBlockSize() : config.txBlockSize();
        final int blockCount = rx ? config.rxBlockCount() : config.txBlockCount();
        final int frameCount = rx ? config.rxFrameCount() : config.txFrameCount();
        final boolean v3 = config.version() == RingConfig.Version.V3;

        final UnsafeBuffer req = option.buffer;
        req.setMemory(0, TPACKET_REQ3_LENGTH, (byte)0);
        req.putInt(REQ_BLOCK_SIZE_OFFSET, blockSize);
        req.putInt(REQ_BLOCK_NR_OFFSET, blockCount);
        req.putInt(REQ_FRAME_SIZE_OFFSET, frameSize);
        req.putInt(REQ_FRAME_NR_OFFSET, frameCount);
        if (v3 && rx)
        {
            req.putInt(REQ3_RETIRE_BLK_TOV_OFFSET, config.blockTimeoutMs());
        }
        // A V3 TX ring takes tpacket_req3 with retire_blk_tov, sizeof_priv and feature_req_word all 0.
        final int length = v3 ? TPACKET_REQ3_LENGTH : TPACKET_REQ_LENGTH;

        if (Native.LIBC.setsockopt(fd, SOL_PACKET, name, option.pointer, length) < 0)
        {
            final int errno = Native.errno();
            final String ring = rx ? "PACKET_RX_RING" : "PACKET_TX_RING";
            final long bytes = (long)blockSize * blockCount;
            final String size = " of " + bytes + " bytes (" + blockCount + " blocks of " + blockSize +
                " bytes, " + frameCount + " frames of " + frameSize + " bytes)";
            if (ENOMEM == errno || EINVAL == errno)
            {
                throw new PacketIoException("interface '" + interfaceName + "': " + ring + size +
                    " refused, ring too big or badly shaped: " + Native.strerror(errno), errno);
            }
            throw PacketIoException.ofErrno("interface '" + interfaceName + "': " + ring + size, errno);
        }
    }

    private static int[] frameOffsets(final int frameSize, final int blockSize, final int blockCount)
    {
        final int perBlock = blockSize / frameSize;
        final int[] offsets = new int[perBlock * blockCount];
        for (int i = 0; i < offsets.length; i++)
        {
            offsets[i] = (i / perBlock) * blockSize + (i % perBlock) * frameSize;
        }
        return offsets;
    }

    /**
     * Hand every ready RX frame, up to {@code limit}, to the handler in arrival order, giving each
     * frame (V2) or each finished block (V3) back to the kernel after the handler returns.
     *
     * @param handler called once per frame.
     * @param limit   most frames to handle in this call.
     * @return frames handled.
     */
    public int receive(final FrameHandler handler, final int limit)
    {
        return v3 ? receiveV3(handler, limit) : receiveV2(handler, limit);
    }

    /**
     * Shows the frames that {@link #receive} would hand over next, up to {@code limit}, without
     * giving them back to the kernel: for a first pass over a batch (to start the flow-table
     * loads of all its frames before handling any). TPACKET_V2 only; with V3 it shows none.
     *
     * @return frames shown.
     */
    public int peek(final FrameHandler handler, final int limit)
    {
        if (v3)
        {
            return 0;
        }
        final UnsafeBuffer ring = rxRing;
        final int[] offsets = rxFrameOffsets;
        int index = rxIndex;
        int frames = 0;
        while (frames < limit)
        {
            final int frame = offsets[index];
            if ((ring.getIntAcquire(frame + TP2_STATUS_OFFSET) & TP_STATUS_USER) == 0)
            {
                break;
            }
            final int mac = ring.getShort(frame + TP2_MAC_OFFSET) & 0xFFFF;
            handler.onFrame(ring, frame + mac, ring.getInt(frame + TP2_SNAPLEN_OFFSET), 0);
            frames++;
            if (++index == offsets.length)
            {
                index = 0;
            }
        }
        return frames;
    }

    private int receiveV2(final FrameHandler handler, final int limit)
    {
        final UnsafeBuffer ring = rxRing;
        final int[] offsets = rxFrameOffsets;
        final int extraFlags = vnet ? FrameHandler.VNET_HEADER : 0;
        int index = rxIndex;
        int frames = 0;
        long bytes = 0;
        long truncated = 0;

        while (frames < limit)
        {
            final int frame = offsets[index];
            final int status = ring.getIntAcquire(frame + TP2_STATUS_OFFSET);
            if ((status & TP_STATUS_USER) == 0)
            {
                break;
            }

            final int length = ring.getInt(frame + TP2_LEN_OFFSET);
            final int captured = ring.getInt(frame + TP2_SNAPLEN_OFFSET);
            final int mac = ring.getShort(frame + TP2_MAC_OFFSET) & 0xFFFF;
            int flags = (status & FrameHandler.STATUS_MASK) | extraFlags;
            if (captured < length)
            {
                flags |= FrameHandler.TRUNCATED;
                truncated++;
            }

            handler.onFrame(ring, frame + mac, captured, flags);

            ring.putIntRelease(frame + TP2_STATUS_OFFSET, TP_STATUS_KERNEL);
            bytes += captured;
            frames++;
            if (++index == offsets.length)
            {
                index = 0;
            }
        }

        rxIndex = index;
        if (frames > 0)
        {
            addCounters(frames, bytes, truncated);
        }
        return frames;
    }

    private int receiveV3(final FrameHandler handler, final int limit)
    {
        final UnsafeBuffer ring = rxRing;
        final int extraFlags = vnet ? FrameHandler.VNET_HEADER : 0;
        int frames = 0;
        long bytes = 0;
        long truncated = 0;

        while (frames < limit)
        {
            final int block = rxBlockIndex * rxBlockSize;
            if (0 == rxPacketsLeft)
            {
                final int blockStatus = ring.getIntAcquire(block + BD_BLOCK_STATUS_OFFSET);
                if ((blockStatus & TP_STATUS_USER) == 0)
                {
                    break;
                }
                rxPacketsLeft = ring.getInt(block + BD_NUM_PKTS_OFFSET);
                rxPacketOffset = block + ring.getInt(block + BD_OFFSET_TO_FIRST_PKT_OFFSET);
                if (0 == rxPacketsLeft)
                {
                    releaseBlock(ring, block);
                    continue;
                }
            }

            final int packet = rxPacketOffset;
            final int status = ring.getInt(packet + TP3_STATUS_OFFSET);
            final int length = ring.getInt(packet + TP3_LEN_OFFSET);
            final int captured = ring.getInt(packet + TP3_SNAPLEN_OFFSET);
            final int mac = ring.getShort(packet + TP3_MAC_OFFSET) & 0xFFFF;
            final int next = ring.getInt(packet + TP3_NEXT_OFFSET_OFFSET);
            int flags = (status & FrameHandler.STATUS_MASK) | extraFlags;
            if (captured < length)
            {
                flags |= FrameHandler.TRUNCATED;
                truncated++;
            }

            handler.onFrame(ring, packet + mac, captured, flags);

            bytes += captured;
            frames++;
            if (0 == --rxPacketsLeft)
            {
                releaseBlock(ring, block);
            }
            else
            {
                rxPacketOffset = packet + next;
            }
        }

        if (frames > 0)
        {
            addCounters(frames, bytes, truncated);
        }
        return frames;
    }

    private void releaseBlock(final UnsafeBuffer ring, final int block)
    {
        ring.putIntRelease(block + BD_BLOCK_STATUS_OFFSET, TP_STATUS_KERNEL);
        if (++rxBlockIndex == rxBlockCount)
        {
            rxBlockIndex = 0;
        }
    }

    private void addCounters(final int frames, final long bytes, final long truncated)
    {
        final UnsafeBuffer c = counters;
        c.putLongRelease(COUNTER_RX_FRAMES, c.getLong(COUNTER_RX_FRAMES) + frames);
        c.putLongRelease(COUNTER_RX_BYTES, c.getLong(COUNTER_RX_BYTES) + bytes);
        if (truncated > 0)
        {
            c.putLongRelease(COUNTER_RX_TRUNCATED, c.getLong(COUNTER_RX_TRUNCATED) + truncated);
        }
    }

    /**
     * Whether a frame is ready without a system call.
     *
     * @return true if {@link #receive} would hand over at least one frame.
     */
    public boolean isInputReady()
    {
        if (v3)
        {
            return rxPacketsLeft > 0 ||
                (rxRing.getIntAcquire(rxBlockIndex * rxBlockSize + BD_BLOCK_STATUS_OFFSET) & TP_STATUS_USER) != 0;
        }
        return (rxRing.getIntAcquire(rxFrameOffsets[rxIndex] + TP2_STATUS_OFFSET) & TP_STATUS_USER) != 0;
    }

    /**
     * Block in poll() until a frame is ready or the timeout passes, for idle strategies that sleep.
     * A pending socket error (e.g. ENETDOWN when the interface went down) is read, cleared and counted.
     *
     * @param timeoutMs most milliseconds to wait; 0 only checks, negative waits forever.
     * @return true if a frame is ready.
     */
    public boolean waitForInput(final int timeoutMs)
    {
        if (isInputReady())
        {
            return true;
        }

        final UnsafeBuffer pfd = pollFd.buffer;
        pfd.putShort(POLLFD_EVENTS_OFFSET, POLLIN);
        pfd.putShort(POLLFD_REVENTS_OFFSET, (short)0);
        final int ready = Native.LIBC.poll(pollFd.pointer, 1, timeoutMs);
        if (ready > 0 && (pfd.getShort(POLLFD_REVENTS_OFFSET) & POLLERR) != 0)
        {
            clearSocketError();
        }
        return isInputReady();
    }

    private void clearSocketError()
    {
        // Reading SO_ERROR clears it; otherwise every later poll would return at once.
        socketError.buffer.putInt(4, 4);
        Native.LIBC.getsockopt(fd, SOL_SOCKET, SO_ERROR, socketError.pointer, socketErrorLength);
        counters.putLongRelease(COUNTER_SOCKET_ERRORS, counters.getLong(COUNTER_SOCKET_ERRORS) + 1);
    }

    /**
     * Copy a frame into the next free TX frame and mark it for sending; {@link #flush()} sends.
     * With vnet headers on, the frame gets an all-zero header (no GSO, checksum complete).
     * <p>
     * A frame longer than the interface MTU allows (MTU + 14, + 4 with a VLAN tag) is refused here:
     * without vnet headers the kernel would drop it silently, and with vnet headers the device
     * drops it and the kernel retries that frame forever, which blocks the TX ring.
     *
     * @param src    buffer holding the Ethernet frame.
     * @param offset of the frame in src.
     * @param length of the frame.
     * @return false if the ring is full (counted in {@link #txRingFull()}) or the frame is too long
     * for the MTU or a TX frame (counted in {@link #txOversize()}).
     */
    public boolean send(final DirectBuffer src, final int offset, final int length)
    {
        if (length > txMaxFrame && !fitsWithVlanTag(src, offset, length))
        {
            countOversize();
            return false;
        }
        final int data = claimTxFrame(length);
        if (data < 0)
        {
            return false;
        }
        if (vnet)
        {
            txRing.setMemory(data, VnetHeader.LENGTH, (byte)0);
            // hdr_len = the whole frame: tpacket_snd copies max(hdr_len, 14) bytes into the skb and
            // attaches the rest as fragments of the ring's pages, which veth (and any path into the
            // stack) must copy again into a newly allocated page per frame. A linear copy is cheaper.
            txRing.putShort(data + VnetHeader.HDR_LEN_OFFSET, (short)length, VnetHeader.ORDER);
        }
        txRing.putBytes(data + vnetLength, src, offset, length);
        commitTxFrame(length);
        return true;
    }

    /**
     * Copy a frame and its virtio-net header into the next free TX frame: the kernel segments a GSO
     * frame and completes a partial checksum as the header asks. Needs {@link RingConfig#vnetHeader()}.
     * A GSO frame is refused when its segments would exceed the MTU, a plain frame as for
     * {@link #send(DirectBuffer, int, int)}.
     *
     * @param src    buffer holding the Ethernet frame.
     * @param offset of the frame in src.
     * @param length of the frame.
     * @param header the frame's metadata, e.g. the received header wrapped at offset - 10.
     * @return false if the ring is full or the frame too long, as for {@link #send(DirectBuffer, int, int)}.
     */
    public boolean send(final DirectBuffer src, final int offset, final int length, final VnetHeader header)
    {
        if (!vnet)
        {
            throw new IllegalStateException("interface '" + interfaceName + "': socket has no vnet header");
        }
        if (length > txMaxFrame &&
            (header.isGso() ? !segmentsFit(src, offset, length, header) : !fitsWithVlanTag(src, offset, length)))
        {
            countOversize();
            return false;
        }
        final int data = claimTxFrame(length);
        if (data < 0)
        {
            return false;
        }
        txRing.putBytes(data, header.buffer(), header.offset(), VnetHeader.LENGTH);
        if (!header.isGso())
        {
            // The whole frame into the skb's linear part, as in send(buffer, offset, length).
            txRing.putShort(data + VnetHeader.HDR_LEN_OFFSET, (short)length, VnetHeader.ORDER);
        }
        txRing.putBytes(data + VnetHeader.LENGTH, src, offset, length);
        commitTxFrame(length);
        return true;
    }

    private boolean fitsWithVlanTag(final DirectBuffer src, final int offset, final int length)
    {
        if (length > txMaxFrame + VLAN_TAG_LENGTH || length < ETHERNET_HEADER_LENGTH)
        {
            return false;
        }
        final int etherType = src.getShort(offset + ETHERTYPE_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
        return 0x8100 == etherType || 0x88A8 == etherType;
    }

    private boolean segmentsFit(final DirectBuffer src, final int offset, final int length, final VnetHeader header)
    {
        // Largest segment = headers up to the end of the L4 header + gso_size.
        final int l4Start = header.csumStart();
        final int gsoType = header.gsoType() & ~VnetHeader.GSO_ECN;
        final int l4HeaderLength;
        if (VnetHeader.GSO_TCPV4 == gsoType || VnetHeader.GSO_TCPV6 == gsoType)
        {
            if (l4Start + TCP_DATA_OFFSET_OFFSET >= length)
            {
                return false;
            }
            l4HeaderLength = ((src.getByte(offset + l4Start + TCP_DATA_OFFSET_OFFSET) & 0xF0) >>> 4) * 4;
        }
        else
        {
            l4HeaderLength = UDP_HEADER_LENGTH;
        }
        return l4Start + l4HeaderLength + header.gsoSize() <= txMaxFrame;
    }

    private void countOversize()
    {
        lastRefusalOversize = true;
        counters.putLongRelease(COUNTER_TX_OVERSIZE, counters.getLong(COUNTER_TX_OVERSIZE) + 1);
    }

    /**
     * Why the last refused {@link #send} refused: so the caller counts the drop under the right name.
     *
     * @return true if the frame was too long (MTU or TX slot), false if the ring was full.
     */
    public boolean lastRefusalWasOversize()
    {
        return lastRefusalOversize;
    }

    private int claimTxFrame(final int length)
    {
        if (length > txCapacity || length <= 0)
        {
            countOversize();
            return -1;
        }
        if (txInFlight == txFrameOffsets.length)
        {
            reclaimTxFrames();
            if (txInFlight == txFrameOffsets.length)
            {
                lastRefusalOversize = false;
                counters.putLongRelease(COUNTER_TX_RING_FULL, counters.getLong(COUNTER_TX_RING_FULL) + 1);
                return -1;
            }
        }
        return txFrameOffsets[txProducer] + txDataOffset;
    }

    private void commitTxFrame(final int length)
    {
        final UnsafeBuffer ring = txRing;
        final int frame = txFrameOffsets[txProducer];
        if (v3)
        {
            ring.putInt(frame + TP3_NEXT_OFFSET_OFFSET, 0);
        }
        ring.putInt(frame + txLengthOffset, length + vnetLength);
        ring.putIntRelease(frame + txStatusOffset, TP_STATUS_SEND_REQUEST);

        txLastQueuedFrame = frame;
        txNeedsKick = true;
        txInFlight++;
        if (++txProducer == txFrameOffsets.length)
        {
            txProducer = 0;
        }
        final UnsafeBuffer c = counters;
        c.putLongRelease(COUNTER_TX_FRAMES, c.getLong(COUNTER_TX_FRAMES) + 1);
        c.putLongRelease(COUNTER_TX_BYTES, c.getLong(COUNTER_TX_BYTES) + length);
    }

    /**
     * Kick the kernel to send the queued TX frames: one {@code sendto(fd, NULL, 0, MSG_DONTWAIT)}, only
     * if frames were queued since the last kick or the last kick left some unsent (socket buffer full).
     */
    public void flush()
    {
        if (txNeedsKick)
        {
            Native.LIBC.sendtoNoErrno(fd, null, 0, MSG_DONTWAIT, null, 0);
            // The kernel walks all SEND_REQUEST frames within the call; one left means it stopped early.
            txNeedsKick = txRing.getIntAcquire(txLastQueuedFrame + txStatusOffset) == TP_STATUS_SEND_REQUEST;
        }
    }

    private void reclaimTxFrames()
    {
        final UnsafeBuffer ring = txRing;
        final int[] offsets = txFrameOffsets;
        while (txInFlight > 0)
        {
            final int status = ring.getIntAcquire(offsets[txConsumer] + txStatusOffset);
            if (TP_STATUS_AVAILABLE != status)
            {
                break;
            }
            txInFlight--;
            if (++txConsumer == offsets.length)
            {
                txConsumer = 0;
            }
        }
    }

    /**
     * TX frames queued but not yet released by the kernel (waiting, being sent, or in flight).
     *
     * @return frame count.
     */
    public int txPending()
    {
        reclaimTxFrames();
        return txInFlight;
    }

    /** @return true when nothing queued is still waiting for a kick. */
    public boolean isFlushed()
    {
        return !txNeedsKick;
    }

    /**
     * Read PACKET_STATISTICS (which the kernel resets on every read) and add it to the kernel
     * counters. Call it periodically from one thread at a time.
     */
    public synchronized void pollKernelStatistics()
    {
        if (fd < 0)
        {
            return;
        }
        statistics.buffer.setMemory(0, 16, (byte)0);
        statisticsLength.buffer.putInt(0, TPACKET_STATS_V3_LENGTH);
        if (Native.LIBC.getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, statistics.pointer, statisticsLength.pointer) < 0)
        {
            throw PacketIoException.ofErrno("interface '" + interfaceName + "': PACKET_STATISTICS", Native.errno());
        }
        final UnsafeBuffer s = statistics.buffer;
        // tp_packets counts every packet including the dropped ones.
        final long packets = s.getInt(TPACKET_STATS_PACKETS_OFFSET) & 0xFFFF_FFFFL;
        final long drops = s.getInt(TPACKET_STATS_DROPS_OFFSET) & 0xFFFF_FFFFL;
        final long freezes = v3 ? s.getInt(8) & 0xFFFF_FFFFL : 0;
        counters.putLongRelease(COUNTER_KERNEL_PACKETS, counters.getLong(COUNTER_KERNEL_PACKETS) + packets);
        counters.putLongRelease(COUNTER_KERNEL_DROPS, counters.getLong(COUNTER_KERNEL_DROPS) + drops);
        counters.putLongRelease(COUNTER_KERNEL_FREEZE_Q, counters.getLong(COUNTER_KERNEL_FREEZE_Q) + freezes);
    }

    /** @return frames handed to a handler. */
    public long rxFrames()
    {
        return counters.getLongVolatile(COUNTER_RX_FRAMES);
    }

    /** @return bytes handed to a handler (captured lengths). */
    public long rxBytes()
    {
        return counters.getLongVolatile(COUNTER_RX_BYTES);
    }

    /** @return frames handed over truncated (too big for the ring frame). */
    public long rxTruncated()
    {
        return counters.getLongVolatile(COUNTER_RX_TRUNCATED);
    }

    /** @return frames queued on the TX ring. */
    public long txFrames()
    {
        return counters.getLongVolatile(COUNTER_TX_FRAMES);
    }

    /** @return bytes queued on the TX ring (frames without vnet headers). */
    public long txBytes()
    {
        return counters.getLongVolatile(COUNTER_TX_BYTES);
    }

    /** @return sends refused because every TX frame was still owned by the kernel. */
    public long txRingFull()
    {
        return counters.getLongVolatile(COUNTER_TX_RING_FULL);
    }

    /** @return sends refused because the frame was longer than the MTU or a TX frame allows. */
    public long txOversize()
    {
        return counters.getLongVolatile(COUNTER_TX_OVERSIZE);
    }

    /** @return packets the kernel counted for this socket (tp_packets, accumulated). */
    public long kernelPackets()
    {
        return counters.getLongVolatile(COUNTER_KERNEL_PACKETS);
    }

    /** @return packets the kernel dropped because the RX ring was full (tp_drops, accumulated). */
    public long kernelDrops()
    {
        return counters.getLongVolatile(COUNTER_KERNEL_DROPS);
    }

    /** @return V3 only: times the RX queue froze because every block was owned by user space. */
    public long kernelFreezeQueueCount()
    {
        return counters.getLongVolatile(COUNTER_KERNEL_FREEZE_Q);
    }

    /** @return socket errors cleared by {@link #waitForInput(int)}. */
    public long socketErrors()
    {
        return counters.getLongVolatile(COUNTER_SOCKET_ERRORS);
    }

    /** @return the interface as it was when the socket opened. */
    public InterfaceInfo interfaceInfo()
    {
        return interfaceInfo;
    }

    /** @return the configuration the socket was opened with. */
    public RingConfig config()
    {
        return config;
    }

    /** @return the socket file descriptor, or -1 once closed. */
    public int fd()
    {
        return fd;
    }

    /** @return bytes of Ethernet frame one TX frame holds. */
    public int txFrameCapacity()
    {
        return txCapacity;
    }

    /** @return number of TX frames in the ring. */
    public int txFrameCount()
    {
        return txFrameOffsets.length;
    }

    /** @return true once closed. */
    public boolean isClosed()
    {
        return fd < 0;
    }

    /** Unmap the rings and close the socket; later calls do nothing. */
    @Override
    public void close()
    {
        if (fd >= 0)
        {
            Native.LIBC.munmap(mapAddress, mapLength);
            Native.LIBC.close(fd);
            mapAddress = 0;
            fd = -1;
            rxRing.wrap(new byte[0]);
            txRing.wrap(new byte[0]);
        }
    }

    @Override
    public String toString()
    {
        return "PacketSocket{" + interfaceName + " fd=" + fd + " " + config + "}";
    }
}
