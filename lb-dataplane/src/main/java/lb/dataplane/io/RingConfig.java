package lb.dataplane.io;

import static lb.dataplane.io.PacketConstants.*;

/**
 * How a {@link PacketSocket} is set up: TPACKET version, ring geometry for RX and TX, the virtio-net
 * header option for GSO/checksum offload, and fanout. Immutable; build with {@link #builder()}.
 * <p>
 * A ring is {@code blockCount} blocks of {@code blockSize} bytes (a multiple of the 4 KiB page);
 * TPACKET_V2 cuts each block into {@code blockSize / frameSize} fixed frames, TPACKET_V3 packs
 * received packets of any size into a block and hands the block over when it is full or when
 * {@code blockTimeoutMs} expires. The version is per socket, so V3 also means V3 frames on TX
 * (fixed size, like V2).
 * <p>
 * With {@link Builder#vnetHeader(boolean)} every received frame is preceded by a 10-byte
 * {@link VnetHeader} and every transmitted frame carries one: the kernel then delivers GSO
 * super-frames (up to 64 KiB on a veth with TSO on) with their segmentation and checksum metadata,
 * and segments and checksums them again on transmit. Rings then need frames of about 64 KiB, which
 * the defaults pick when vnet headers are on.
 */
public final class RingConfig
{
    /** TPACKET ring format. */
    public enum Version
    {
        /** Fixed-size frames, each handed over as soon as it is filled: low latency. */
        V2(TPACKET_V2),
        /** Variable-size packets packed into blocks, handed over per block: dense, adds latency at low load. */
        V3(TPACKET_V3);

        final int kernelValue;

        Version(final int kernelValue)
        {
            this.kernelValue = kernelValue;
        }
    }

    /** x86_64 page size; ring blocks must be a multiple of it. */
    public static final int PAGE_SIZE = 4096;
    /** Smallest frame size accepted: ring header, sockaddr_ll, vnet header and a minimum Ethernet frame. */
    public static final int MIN_FRAME_SIZE = 256;
    /** Frame size the defaults use with vnet headers: a 64 KiB GSO frame plus ring and vnet headers. */
    public static final int VNET_FRAME_SIZE = 65536 + 256;
    /** Frame size the defaults use without vnet headers: a 1518-byte frame plus ring headers. */
    public static final int DEFAULT_FRAME_SIZE = 2048;

    private final Version version;
    private final boolean vnetHeader;
    private final int rxFrameSize;
    private final int rxBlockSize;
    private final int rxBlockCount;
    private final int txFrameSize;
    private final int txBlockSize;
    private final int txBlockCount;
    private final int blockTimeoutMs;
    private final boolean qdiscBypass;
    private final boolean ignoreOutgoing;
    private final int fanoutGroup;
    private final int fanoutMode;
    private final int fanoutFlags;
    private final FanoutProgram fanoutProgram;

    private RingConfig(final Builder b)
    {
        version = b.version;
        vnetHeader = b.vnetHeader;
        rxFrameSize = b.rxFrameSize;
        rxBlockSize = b.rxBlockSize;
        rxBlockCount = b.rxBlockCount;
        txFrameSize = b.txFrameSize;
        txBlockSize = b.txBlockSize;
        txBlockCount = b.txBlockCount;
        blockTimeoutMs = b.blockTimeoutMs;
        qdiscBypass = b.qdiscBypass;
        ignoreOutgoing = b.ignoreOutgoing;
        fanoutGroup = b.fanoutGroup;
        fanoutMode = b.fanoutMode;
        fanoutFlags = b.fanoutFlags;
        fanoutProgram = b.fanoutProgram;
    }

    /** @return a builder with the defaults: V2, no vnet header, 2 KiB frames, 8 MiB RX and 2 MiB TX. */
    public static Builder builder()
    {
        return new Builder();
    }

    /** @return the defaults: {@code builder().build()}. */
    public static RingConfig defaults()
    {
        return builder().build();
    }

    /** @return TPACKET version of both rings. */
    public Version version()
    {
        return version;
    }

    /** @return true when frames carry a {@link VnetHeader} (PACKET_VNET_HDR). */
    public boolean vnetHeader()
    {
        return vnetHeader;
    }

    /** @return RX frame size in bytes (V3: the accounting unit, packets may be larger up to a block). */
    public int rxFrameSize()
    {
        return rxFrameSize;
    }

    /** @return RX block size in bytes. */
    public int rxBlockSize()
    {
        return rxBlockSize;
    }

    /** @return number of RX blocks. */
    public int rxBlockCount()
    {
        return rxBlockCount;
    }

    /** @return RX frames per block. */
    public int rxFramesPerBlock()
    {
        return rxBlockSize / rxFrameSize;
    }

    /** @return number of RX frames (V2 ring slots). */
    public int rxFrameCount()
    {
        return rxFramesPerBlock() * rxBlockCount;
    }

    /** @return RX ring size in bytes. */
    public long rxRingBytes()
    {
        return (long)rxBlockSize * rxBlockCount;
    }

    /** @return TX frame size in bytes. */
    public int txFrameSize()
    {
        return txFrameSize;
    }

    /** @return TX block size in bytes. */
    public int txBlockSize()
    {
        return txBlockSize;
    }

    /** @return number of TX blocks. */
    public int txBlockCount()
    {
        return txBlockCount;
    }

    /** @return TX frames per block. */
    public int txFramesPerBlock()
    {
        return txBlockSize / txFrameSize;
    }

    /** @return number of TX frames (ring slots). */
    public int txFrameCount()
    {
        return txFramesPerBlock() * txBlockCount;
    }

    /** @return TX ring size in bytes. */
    public long txRingBytes()
    {
        return (long)txBlockSize * txBlockCount;
    }

    /** @return V3 block retire timeout in milliseconds (0: the kernel picks one from the link speed). */
    public int blockTimeoutMs()
    {
        return blockTimeoutMs;
    }

    /** @return true to transmit straight to the driver (PACKET_QDISC_BYPASS). */
    public boolean qdiscBypass()
    {
        return qdiscBypass;
    }

    /** @return true when the socket must not see its own transmitted frames. */
    public boolean ignoreOutgoing()
    {
        return ignoreOutgoing;
    }

    /** @return true when the socket joins a fanout group. */
    public boolean hasFanout()
    {
        return fanoutGroup >= 0;
    }

    /** @return fanout group id 0..65535, or -1 for none. */
    public int fanoutGroup()
    {
        return fanoutGroup;
    }

    /** @return fanout mode, e.g. {@link PacketConstants#PACKET_FANOUT_HASH}. */
    public int fanoutMode()
    {
        return fanoutMode;
    }

    /** @return fanout flags as given (IGNORE_OUTGOING is added when {@link #ignoreOutgoing()}). */
    public int fanoutFlags()
    {
        return fanoutFlags;
    }

    /** @return the steering program of a {@link PacketConstants#PACKET_FANOUT_CBPF} group, or null. */
    public FanoutProgram fanoutProgram()
    {
        return fanoutProgram;
    }

    /**
     * Bytes of TX frame data (Ethernet frame, without the vnet header) one TX frame can hold.
     *
     * @return capacity in bytes.
     */
    public int txFrameCapacity()
    {
        final int dataOffset = version == Version.V3 ? TP3_TX_DATA_OFFSET : TP2_TX_DATA_OFFSET;
        return txFrameSize - dataOffset - (vnetHeader ? VnetHeader.LENGTH : 0);
    }

    /**
     * Largest Ethernet frame (14-byte header, no VLAN tag in-band) that arrives in one RX frame
     * without truncation. For V3 the limit is the block, not the frame size.
     *
     * @return capacity in bytes.
     */
    public int rxFrameCapacity()
    {
        final int hdrlen = version == Version.V3 ? TPACKET3_HDRLEN : TPACKET2_HDRLEN;
        // Kernel: netoff = TPACKET_ALIGN(tp_hdrlen + 16) + vnet; macoff = netoff - 14.
        final int macOffset = tpacketAlign(hdrlen + 16) + (vnetHeader ? VnetHeader.LENGTH : 0) - 14;
        final int limit = version == Version.V3 ? rxBlockSize - BLOCK_DESC_LENGTH : rxFrameSize;
        return limit - macOffset;
    }

    @Override
    public String toString()
    {
        return "RingConfig{" + version + (vnetHeader ? " vnet" : "") +
            " rx=" + rxBlockCount + "x" + rxBlockSize + "B/" + rxFrameSize + "B frames" +
            " tx=" + txBlockCount + "x" + txBlockSize + "B/" + txFrameSize + "B frames" +
            (version == Version.V3 ? " tov=" + blockTimeoutMs + "ms" : "") +
            (hasFanout() ? " fanout=" + fanoutGroup + "/" + fanoutMode + "/0x" + Integer.toHexString(fanoutFlags) : "") +
            (null != fanoutProgram ? " " + fanoutProgram : "") +
            "}";
    }

    /** Builder; sizes left at 0 take defaults that depend on the version and the vnet option. */
    public static final class Builder
    {
        private Version version = Version.V2;
        private boolean vnetHeader;
        private int rxFrameSize;
        private int rxBlockSize;
        private int rxBlockCount;
        private int txFrameSize;
        private int txBlockSize;
        private int txBlockCount;
        private int blockTimeoutMs = 1;
        private boolean qdiscBypass = true;
        private boolean ignoreOutgoing = true;
        private int fanoutGroup = -1;
        private int fanoutMode;
        private int fanoutFlags;
        private FanoutProgram fanoutProgram;

        private Builder()
        {
        }

        /** @param version TPACKET version of both rings. @return this. */
        public Builder version(final Version version)
        {
            this.version = version;
            return this;
        }

        /** @param on carry a virtio-net header with every frame (GSO and checksum offload). @return this. */
        public Builder vnetHeader(final boolean on)
        {
            this.vnetHeader = on;
            return this;
        }

        /** @param bytes RX frame size, a multiple of 16. @return this. */
        public Builder rxFrameSize(final int bytes)
        {
            this.rxFrameSize = bytes;
            return this;
        }

        /** @param bytes RX block size, a multiple of 4096. @return this. */
        public Builder rxBlockSize(final int bytes)
        {
            this.rxBlockSize = bytes;
            return this;
        }

        /** @param count RX block count. @return this. */
        public Builder rxBlockCount(final int count)
        {
            this.rxBlockCount = count;
            return this;
        }

        /** @param bytes TX frame size, a multiple of 16. @return this. */
        public Builder txFrameSize(final int bytes)
        {
            this.txFrameSize = bytes;
            return this;
        }

        /** @param bytes TX block size, a multiple of 4096. @return this. */
        public Builder txBlockSize(final int bytes)
        {
            this.txBlockSize = bytes;
            return this;
        }

        /** @param count TX block count. @return this. */
        public Builder txBlockCount(final int count)
        {
            this.txBlockCount = count;
            return this;
        }

        /** @param ms V3 block retire timeout in ms (1 by default; 0 lets the kernel choose). @return this. */
        public Builder blockTimeoutMs(final int ms)
        {
            this.blockTimeoutMs = ms;
            return this;
        }

        /** @param on transmit straight to the driver, bypassing the qdisc (default on). @return this. */
        public Builder qdiscBypass(final boolean on)
        {
            this.qdiscBypass = on;
            return this;
        }

        /** @param on do not receive the socket's own transmissions (default on). @return this. */
        public Builder ignoreOutgoing(final boolean on)
        {
            this.ignoreOutgoing = on;
            return this;
        }

        /**
         * Join a fanout group after bind.
         *
         * @param group group id 0..65535, shared by the sockets that split the traffic.
         * @param mode  e.g. {@link PacketConstants#PACKET_FANOUT_HASH}.
         * @param flags e.g. {@link PacketConstants#PACKET_FANOUT_FLAG_ROLLOVER}; IGNORE_OUTGOING is
         *              added by the socket when outgoing frames are ignored.
         * @return this.
         */
        public Builder fanout(final int group, final int mode, final int flags)
        {
            this.fanoutGroup = group;
            this.fanoutMode = mode;
            this.fanoutFlags = flags;
            return this;
        }

        /**
         * The program that picks the socket in a {@link PacketConstants#PACKET_FANOUT_CBPF} group. Every
         * member sets it after joining (PACKET_FANOUT_DATA); it applies to the whole group, so each
         * later member replaces it with the same program.
         *
         * @param program the program, or null for none.
         * @return this.
         */
        public Builder fanoutProgram(final FanoutProgram program)
        {
            this.fanoutProgram = program;
            return this;
        }

        /**
         * Fill defaults and validate.
         *
         * @return the config.
         * @throws IllegalArgumentException naming the first invalid setting.
         */
        public RingConfig build()
        {
            final boolean v3 = version == Version.V3;
            if (0 == rxFrameSize)
            {
                rxFrameSize = vnetHeader ? VNET_FRAME_SIZE : DEFAULT_FRAME_SIZE;
            }
            if (0 == txFrameSize)
            {
                txFrameSize = vnetHeader ? VNET_FRAME_SIZE : DEFAULT_FRAME_SIZE;
            }
            if (0 == rxBlockSize)
            {
                rxBlockSize = vnetHeader || v3 ? 1 << 20 : 128 << 10;
            }
            if (0 == txBlockSize)
            {
                txBlockSize = vnetHeader ? 1 << 20 : 128 << 10;
            }
            if (0 == rxBlockCount)
            {
                // With vnet headers a slot is 64 KiB: 96 blocks of 15 slots hold 1440 frames, about
                // 9 ms at 160 kpps (32 blocks overflowed under the testbed benchmark's UDP sweep).
                rxBlockCount = vnetHeader ? 96 : (v3 ? 8 : 64);
            }
            if (0 == txBlockCount)
            {
                // A TX slot stays taken until the receiver frees the skb (on veth, after its softirq
                // ran): 960 vnet slots instead of 240 absorb that delay.
                txBlockCount = vnetHeader ? 64 : 16;
            }

            checkRing("RX", rxFrameSize, rxBlockSize, rxBlockCount);
            checkRing("TX", txFrameSize, txBlockSize, txBlockCount);
            if (blockTimeoutMs < 0 || blockTimeoutMs > 60_000)
            {
                throw new IllegalArgumentException("V3 block timeout " + blockTimeoutMs + " ms: must be 0..60000");
            }
            if (fanoutGroup >= 0)
            {
                if (fanoutGroup > 0xFFFF)
                {
                    throw new IllegalArgumentException("fanout group " + fanoutGroup + ": must be 0..65535");
                }
                if (fanoutMode < 0 || fanoutMode > 0xFF || (fanoutFlags & ~0xFF00) != 0)
                {
                    throw new IllegalArgumentException("fanout mode " + fanoutMode + " / flags 0x" +
                        Integer.toHexString(fanoutFlags) + ": mode is 0..255, flags are PACKET_FANOUT_FLAG_* bits");
                }
            }
            else if (fanoutGroup != -1)
            {
                throw new IllegalArgumentException("fanout group " + fanoutGroup + ": must be 0..65535");
            }
            if ((null != fanoutProgram) != (fanoutGroup >= 0 && fanoutMode == PACKET_FANOUT_CBPF))
            {
                throw new IllegalArgumentException("a fanout program goes with fanout mode PACKET_FANOUT_CBPF (" +
                    PACKET_FANOUT_CBPF + ") and that mode needs one: mode " + fanoutMode +
                    (null == fanoutProgram ? ", no program" : ", with a program"));
            }

            return new RingConfig(this);
        }

        private static void checkRing(final String ring, final int frameSize, final int blockSize, final int blockCount)
        {
            if (frameSize < MIN_FRAME_SIZE || (frameSize % TPACKET_ALIGNMENT) != 0)
            {
                throw new IllegalArgumentException(ring + " frame size " + frameSize +
                    ": must be at least " + MIN_FRAME_SIZE + " and a multiple of " + TPACKET_ALIGNMENT);
            }
            if (blockSize <= 0 || (blockSize % PAGE_SIZE) != 0)
            {
                throw new IllegalArgumentException(ring + " block size " + blockSize +
                    ": must be a positive multiple of the page size " + PAGE_SIZE);
            }
            if (blockSize < frameSize)
            {
                throw new IllegalArgumentException(ring + " block size " + blockSize +
                    " is smaller than the frame size " + frameSize);
            }
            if (blockCount <= 0)
            {
                throw new IllegalArgumentException(ring + " block count " + blockCount + ": must be positive");
            }
            final long bytes = (long)blockSize * blockCount;
            if (bytes > Integer.MAX_VALUE)
            {
                throw new IllegalArgumentException(ring + " ring of " + bytes + " bytes (" + blockCount +
                    " blocks of " + blockSize + " bytes) is too big: one ring is at most " +
                    Integer.MAX_VALUE + " bytes");
            }
        }
    }
}
