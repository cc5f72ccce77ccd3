package ac97

import "fmt"

// Register names for traces (-d ac97).

var codecNames = map[uint64]string{
	regReset: "RESET", regMasterVol: "MASTER_VOL", regHeadphoneVol: "HEADPHONE_VOL",
	regMasterMono: "MASTER_MONO_VOL", regMasterTone: "MASTER_TONE", regPCBeepVol: "PC_BEEP_VOL",
	regPhoneVol: "PHONE_VOL", regMicVol: "MIC_VOL", regLineInVol: "LINE_IN_VOL", regCDVol: "CD_VOL",
	regVideoVol: "VIDEO_VOL", regAuxVol: "AUX_VOL", regPCMOutVol: "PCM_OUT_VOL",
	regRecordSelect: "RECORD_SELECT", regRecordGain: "RECORD_GAIN", regRecordGainMic: "RECORD_GAIN_MIC",
	regGeneralPurp: "GENERAL_PURPOSE", reg3DControl: "3D_CONTROL", regPowerdown: "POWERDOWN",
	regExtAudioID: "EXT_AUDIO_ID", regExtAudioCtl: "EXT_AUDIO_CTRL", regFrontDACRate: "FRONT_DAC_RATE",
	regSurrDACRate: "SURROUND_DAC_RATE", regLFEDACRate: "LFE_DAC_RATE", regLRADCRate: "LR_ADC_RATE",
	regMicADCRate: "MIC_ADC_RATE", regSigmaAnalog: "SIGMATEL_ANALOG", regSigmaDac2Inv: "SIGMATEL_DAC2INVERT",
	regVendorID1: "VENDOR_ID1", regVendorID2: "VENDOR_ID2",
}

func codecName(off uint64) string {
	if n, ok := codecNames[off]; ok {
		return n
	}
	return fmt.Sprintf("codec[%#x]", off)
}

var chanRegNames = map[uint64]string{
	offBDBAR: "BDBAR", offCIV: "CIV", offLVI: "LVI", offSR: "SR", offPICB: "PICB", offPIV: "PIV", offCR: "CR",
}

var chanNames = [3]string{"PI", "PO", "MC"}

func busMasterName(off uint64) string {
	switch {
	case off < regGlobCnt:
		if n, ok := chanRegNames[off&0xf]; ok {
			return chanNames[off>>4] + "_" + n
		}
	case off == regGlobCnt:
		return "GLOB_CNT"
	case off == regGlobSta:
		return "GLOB_STA"
	case off == regCAS:
		return "CAS"
	}
	return fmt.Sprintf("nabm[%#x]", off)
}
