import type { Locale } from '../../platform/i18n/index.ts';

/**
 * The service map's vocabularies (model, what is offered, who is served):
 * each code's name in English and Welsh. The seeders load them as
 * taxonomies; pages, exports and the search name terms with termName.
 */

export const TERMS: Record<'model' | 'offer' | 'serves', Record<string, [string, string]>> = {
  model: {
    pause: ['Pause practice', 'Ymarfer Pause'],
    fdac: ['Family Drug and Alcohol Court', 'Llys Teulu Cyffuriau ac Alcohol'],
    la_in_house: ['Local authority in-house service', 'Gwasanaeth mewnol awdurdod lleol'],
    third_sector: ['Third sector service', 'Gwasanaeth trydydd sector'],
    pre_birth: ['Pre-birth service', 'Gwasanaeth cyn geni'],
    reunification: ['Reunification service', 'Gwasanaeth aduno'],
    other: ['Other model', 'Model arall'],
  },
  offer: {
    therapeutic: ['Therapeutic support', 'Cymorth therapiwtig'],
    practical: ['Practical support', 'Cymorth ymarferol'],
    advocacy: ['Advocacy', 'Eiriolaeth'],
    contraception: [
      'Contraception and sexual and reproductive health',
      'Atal cenhedlu ac iechyd rhywiol ac atgenhedlol',
    ],
    contact: ['Contact and farewell-contact support', 'Cymorth cyswllt a chyswllt ffarwelio'],
    peer_support: ['Peer support', 'Cymorth cymheiriaid'],
    groupwork: ['Groupwork', 'Gwaith grŵp'],
  },
  serves: {
    mothers: ['Mothers', 'Mamau'],
    fathers: ['Fathers', 'Tadau'],
    couples: ['Couples', 'Cyplau'],
    pregnant: ['Pregnant women', 'Menywod beichiog'],
    care_leavers: ['Care leavers', 'Pobl sy’n gadael gofal'],
  },
};

/** A vocabulary term's name in the page's language (the code if it is unknown). */
export const termName = (kind: 'model' | 'offer' | 'serves', code: string, locale: Locale) =>
  TERMS[kind][code]?.[locale === 'cy' ? 1 : 0] ?? code;
